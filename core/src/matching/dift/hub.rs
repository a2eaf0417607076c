//! On-demand download of the Stable Diffusion 2.1 files from the Hugging Face hub into a
//! plain diffusers folder, with progress, cancellation, resume and a SHA-256 check.
//!
//! For each file the hub is first asked where the file lives (`HEAD …/resolve/main/FILE`,
//! redirects not followed). Large (LFS) files answer with a redirect whose `X-Linked-Etag` is
//! the file's SHA-256 and `X-Linked-Size` its length; small git files (JSON, text) answer
//! directly, and only their length is checked. The bytes go to `FILE.part`: a cancelled or
//! broken transfer keeps it, and the next download resumes it with a `Range` request. A
//! complete file is hashed, compared and only then renamed into place, so a file present under
//! its own name is always whole and verified.

use super::{MatchError, hex};
use crate::progress::Progress;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default repository (the model of the official code); `FACESHOT_SD_REPO` names another
/// (a mirror with the same files).
pub const DEFAULT_REPO: &str = "stabilityai/stable-diffusion-2-1";

/// The hub's address unless `HF_ENDPOINT` says otherwise.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The files fetched (fp16 weights halve the download; they are computed in f32).
pub const FILES: [&str; 6] = [
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.fp16.safetensors",
    "text_encoder/model.fp16.safetensors",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "scheduler/scheduler_config.json",
];

/// Approximate size of [`FILES`] of [`DEFAULT_REPO`], for the user's information.
pub const DOWNLOAD_SIZE_TEXT: &str = "about 2.6 GB";

/// Bytes read between progress reports and cancellation checks.
const CHUNK: usize = 1 << 20;

/// Where SD-2.1 is downloaded to when no folder is given: `FACESHOT_MODELS_DIR`, else
/// `$XDG_DATA_HOME/faceshot/models`, else `~/.local/share/faceshot/models`; one sub-folder
/// per repository.
pub fn default_dir(repo: &str) -> Option<PathBuf> {
    default_dir_in(repo, |k| std::env::var_os(k).map(PathBuf::from))
}

/// [`default_dir`] with the environment read through `var`.
fn default_dir_in(repo: &str, var: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    let env = |k: &str| var(k).filter(|v| !v.as_os_str().is_empty());
    let base = env("FACESHOT_MODELS_DIR")
        .or_else(|| env("XDG_DATA_HOME").map(|d| d.join("faceshot").join("models")))
        .or_else(|| env("HOME").map(|h| h.join(".local/share/faceshot/models")))?;
    Some(base.join(repo.replace('/', "--")))
}

/// A Hugging Face hub (or a mirror speaking its file protocol).
#[derive(Clone)]
pub struct Hub {
    endpoint: String,
    repo: String,
    token: Option<String>,
    /// Redirects not followed: the metadata request reads the redirect's headers.
    meta: ureq::Agent,
    /// Redirects followed: the transfer.
    data: ureq::Agent,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("endpoint", &self.endpoint)
            .field("repo", &self.repo)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Hub {
    /// The repository `repo` (`owner/name`) on the hub at `endpoint` (e.g.
    /// `https://huggingface.co`), with an optional access token.
    pub fn new(endpoint: &str, repo: &str, token: Option<String>) -> Self {
        let agent = |redirects| {
            ureq::AgentBuilder::new()
                .redirects(redirects)
                .timeout_connect(Duration::from_secs(30))
                .timeout_read(Duration::from_secs(60))
                .user_agent(concat!("faceshot/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            repo: repo.trim_matches('/').to_string(),
            token,
            meta: agent(0),
            data: agent(5),
        }
    }

    /// The hub named by `HF_ENDPOINT` (default [`DEFAULT_ENDPOINT`]), the repository named by
    /// `FACESHOT_SD_REPO` (default [`DEFAULT_REPO`]), with the token in `HF_TOKEN`, if any.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let endpoint = var("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let repo = var("FACESHOT_SD_REPO").unwrap_or_else(|| DEFAULT_REPO.to_string());
        Self::new(&endpoint, &repo, var("HF_TOKEN"))
    }

    /// The repository downloaded from.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// Download `files` of the repository into `dest` (kept as `dest/FILE`), skipping those
    /// already there, and return `dest`. Cancelling keeps the partial file for the next call.
    pub fn download(
        &self,
        files: &[&str],
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<PathBuf, MatchError> {
        for (i, file) in files.iter().enumerate() {
            if progress.cancelled() {
                return Err(MatchError::Cancelled);
            }
            let target = dest.join(file);
            if target.is_file() {
                continue;
            }
            let stage = format!("downloading {file} ({} of {})", i + 1, files.len());
            self.fetch(file, &target, &stage, progress)?;
        }
        Ok(dest.to_path_buf())
    }

    fn fetch(
        &self,
        file: &str,
        target: &Path,
        stage: &str,
        progress: &dyn Progress,
    ) -> Result<(), MatchError> {
        let repo = &self.repo;
        let fail = |what: String| MatchError::Download(format!("{repo}/{file}: {what}"));
        let url = format!("{}/{repo}/resolve/main/{file}", self.endpoint);
        let meta = self.call(self.meta.head(&url), true).map_err(&fail)?;
        let remote = Remote::from_response(&meta, &url).map_err(&fail)?;

        let dir = crate::atomic::parent_dir(target);
        std::fs::create_dir_all(dir).map_err(|e| MatchError::io(dir, e))?;
        let part = part_path(target);
        let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if remote.size.is_some_and(|s| have > s) {
            have = 0;
        }
        if remote.size != Some(have) || have == 0 {
            self.transfer(&remote, &part, have, stage, progress)
                .map_err(|e| match e {
                    Transfer::Cancelled => MatchError::Cancelled,
                    Transfer::Io(e) => MatchError::io(&part, e),
                    Transfer::Http(what) => fail(what),
                })?;
        }

        let got = std::fs::metadata(&part)
            .map_err(|e| MatchError::io(&part, e))?
            .len();
        if let Some(size) = remote.size
            && got != size
        {
            return Err(fail(format!(
                "the transfer ended at {got} of {size} bytes; run the download again to resume"
            )));
        }
        if let Some(expected) = &remote.sha256 {
            progress.update(&format!("verifying {file}"), 0, None);
            let actual = sha256_file(&part)?;
            if &actual != expected {
                // A corrupt file must not be resumed or used.
                let _ = std::fs::remove_file(&part);
                return Err(fail(format!(
                    "checksum mismatch (expected {expected}, got {actual}); the file was removed"
                )));
            }
        }
        std::fs::rename(&part, target).map_err(|e| MatchError::io(target, e))?;
        tracing::info!(file, bytes = got, "downloaded");
        Ok(())
    }

    /// Stream `remote` into `part`, appending from `have` bytes when the server honours the
    /// range.
    fn transfer(
        &self,
        remote: &Remote,
        part: &Path,
        have: u64,
        stage: &str,
        progress: &dyn Progress,
    ) -> Result<(), Transfer> {
        let mut request = self.data.get(&remote.location);
        if have > 0 {
            request = request.set("Range", &format!("bytes={have}-"));
        }
        let response = self
            .call(request, remote.same_host)
            .map_err(Transfer::Http)?;
        let (mut done, append) = match response.status() {
            206 => (have, true),
            200 => (0, false),
            s => return Err(Transfer::Http(format!("unexpected answer {s}"))),
        };
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .map_err(Transfer::Io)?;
        let mut reader = response.into_reader();
        let mut buf = vec![0u8; CHUNK];
        loop {
            if progress.cancelled() {
                out.flush().map_err(Transfer::Io)?;
                return Err(Transfer::Cancelled);
            }
            let n = read_some(&mut reader, &mut buf).map_err(|e| Transfer::Http(e.to_string()))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(Transfer::Io)?;
            done += n as u64;
            progress.update(stage, done, remote.size);
        }
        out.sync_all().map_err(Transfer::Io)
    }

    /// Send `request`, with the token when it goes to the hub itself; HTTP errors become
    /// readable messages.
    fn call(&self, mut request: ureq::Request, to_hub: bool) -> Result<ureq::Response, String> {
        if to_hub && let Some(t) = &self.token {
            request = request.set("Authorization", &format!("Bearer {t}"));
        }
        let url = request.url().to_string();
        request.call().map_err(|e| match e {
            ureq::Error::Status(code, _) => {
                let hint = match code {
                    401 | 403 => " (a gated or private repository: set HF_TOKEN)",
                    404 => " (not found)",
                    _ => "",
                };
                format!("the server answered {code}{hint} for {url}")
            }
            ureq::Error::Transport(t) => format!("cannot reach {url}: {t}"),
        })
    }
}

/// Where a file's bytes are and what they must be.
struct Remote {
    location: String,
    /// Whether `location` is on the hub (the token may go there) rather than a CDN.
    same_host: bool,
    size: Option<u64>,
    sha256: Option<String>,
}

impl Remote {
    fn from_response(meta: &ureq::Response, url: &str) -> Result<Self, String> {
        let header = |k: &str| meta.header(k).map(|v| v.trim().to_string());
        let status = meta.status();
        let (location, same_host) = if (300..400).contains(&status) {
            let loc = header("location").ok_or("a redirect without a location")?;
            let base = url::Url::parse(url).map_err(|e| e.to_string())?;
            let to = base
                .join(&loc)
                .map_err(|e| format!("bad redirect {loc}: {e}"))?;
            let same = to.host_str() == base.host_str() && to.port() == base.port();
            (to.to_string(), same)
        } else if status == 200 {
            (url.to_string(), true)
        } else {
            return Err(format!("unexpected answer {status}"));
        };
        // LFS files: `X-Linked-*` describe the file itself; `ETag` of a direct answer is a git
        // hash, not a content hash, and is ignored.
        let sha256 = header("x-linked-etag")
            .map(|e| {
                e.trim_start_matches("W/")
                    .trim_matches('"')
                    .to_ascii_lowercase()
            })
            .filter(|e| e.len() == 64 && e.bytes().all(|b| b.is_ascii_hexdigit()));
        let size = header("x-linked-size")
            .or_else(|| (status == 200).then(|| header("content-length")).flatten())
            .and_then(|s| s.parse().ok());
        Ok(Self {
            location,
            same_host,
            size,
            sha256,
        })
    }
}

enum Transfer {
    Cancelled,
    Io(std::io::Error),
    Http(String),
}

/// `FILE.part` beside `target`.
fn part_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    target.with_file_name(name)
}

/// Fill as much of `buf` as one or more reads give, up to its length; 0 at the end.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, MatchError> {
    let mut f = std::fs::File::open(path).map_err(|e| MatchError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut buf).map_err(|e| MatchError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// A file the test hub serves: its bytes, and whether it is an LFS file (redirected to
    /// `/cdn/…` with its SHA-256, or `wrong_sha` in its place).
    struct Served {
        body: Vec<u8>,
        lfs: bool,
        wrong_sha: bool,
    }

    impl Served {
        fn lfs(body: Vec<u8>) -> Self {
            Self {
                body,
                lfs: true,
                wrong_sha: false,
            }
        }
    }

    /// What the test hub saw: each request line with its `Range` header.
    type Log = Arc<Mutex<Vec<String>>>;

    /// A minimal HTTP/1.1 hub on localhost, one request per connection, for the life of the
    /// test process.
    fn serve(files: HashMap<String, Served>) -> (String, Log) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Log = Arc::default();
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut range = None;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        range = v.trim().trim_end_matches('-').parse::<usize>().ok();
                    }
                }
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                seen.lock()
                    .unwrap()
                    .push(format!("{method} {path} {range:?}"));
                let reply = respond(&files, method, path, range);
                let _ = stream.write_all(&reply);
            }
        });
        (format!("http://{addr}"), log)
    }

    fn respond(
        files: &HashMap<String, Served>,
        method: &str,
        path: &str,
        range: Option<usize>,
    ) -> Vec<u8> {
        let head = |status: &str, headers: &[(String, String)], body: &[u8]| {
            let mut r = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
            for (k, v) in headers {
                r.push_str(&format!("{k}: {v}\r\n"));
            }
            r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let mut bytes = r.into_bytes();
            if method != "HEAD" {
                bytes.extend_from_slice(body);
            }
            bytes
        };
        let (name, cdn) = if let Some(n) = path.strip_prefix("/cdn/") {
            (n, true)
        } else if let Some(n) = path.strip_prefix("/org/model/resolve/main/") {
            (n, false)
        } else {
            return head("404 Not Found", &[], b"");
        };
        let Some(f) = files.get(name) else {
            return head("404 Not Found", &[], b"");
        };
        if f.lfs && !cdn {
            let sha = if f.wrong_sha {
                "0".repeat(64)
            } else {
                hex(&Sha256::digest(&f.body))
            };
            let headers = [
                ("Location".to_string(), format!("/cdn/{name}")),
                ("X-Linked-Etag".to_string(), format!("\"{sha}\"")),
                ("X-Linked-Size".to_string(), f.body.len().to_string()),
            ];
            return head("302 Found", &headers, b"");
        }
        match range {
            Some(from) if cdn && from <= f.body.len() => {
                let headers = [(
                    "Content-Range".to_string(),
                    format!("bytes {from}-{}/{}", f.body.len() - 1, f.body.len()),
                )];
                head("206 Partial Content", &headers, &f.body[from..])
            }
            _ => head("200 OK", &[("ETag".into(), "\"abc\"".into())], &f.body),
        }
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    /// Cancels once more than `after` bytes were reported.
    struct CancelAfter {
        after: u64,
        seen: AtomicUsize,
    }

    impl Progress for CancelAfter {
        fn update(&self, stage: &str, done: u64, _total: Option<u64>) {
            if stage.starts_with("downloading") {
                self.seen.fetch_max(done as usize, Ordering::SeqCst);
            }
        }
        fn cancelled(&self) -> bool {
            self.seen.load(Ordering::SeqCst) as u64 > self.after
        }
    }

    #[test]
    fn files_are_downloaded_verified_and_not_fetched_twice() {
        let big = bytes(3 * CHUNK + 123, 7);
        let small = b"{\"beta_start\": 0.00085}".to_vec();
        let files = HashMap::from([
            ("unet/w.safetensors".to_string(), Served::lfs(big.clone())),
            (
                "scheduler/c.json".to_string(),
                Served {
                    body: small.clone(),
                    lfs: false,
                    wrong_sha: false,
                },
            ),
        ]);
        let (endpoint, log) = serve(files);
        let dir = tempfile::tempdir().unwrap();
        let hub = Hub::new(&endpoint, "org/model", Some("secret".into()));
        let names = ["unet/w.safetensors", "scheduler/c.json"];
        let root = hub.download(&names, dir.path(), &NoProgress).unwrap();
        assert_eq!(root, dir.path());
        assert_eq!(std::fs::read(dir.path().join(names[0])).unwrap(), big);
        assert_eq!(std::fs::read(dir.path().join(names[1])).unwrap(), small);
        assert!(!dir.path().join("unet/w.safetensors.part").exists());
        let requests = log.lock().unwrap().len();
        assert_eq!(requests, 4, "{:?}", log.lock().unwrap());
        // Present files are not asked for again.
        hub.download(&names, dir.path(), &NoProgress).unwrap();
        assert_eq!(log.lock().unwrap().len(), requests);
    }

    #[test]
    fn a_checksum_mismatch_fails_and_leaves_no_file() {
        let files = HashMap::from([(
            "vae/w.safetensors".to_string(),
            Served {
                body: bytes(5000, 1),
                lfs: true,
                wrong_sha: true,
            },
        )]);
        let (endpoint, _) = serve(files);
        let dir = tempfile::tempdir().unwrap();
        let err = Hub::new(&endpoint, "org/model", None)
            .download(&["vae/w.safetensors"], dir.path(), &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains("checksum mismatch"), "{err}");
        assert!(!dir.path().join("vae/w.safetensors").exists());
        assert!(!dir.path().join("vae/w.safetensors.part").exists());
    }

    #[test]
    fn a_cancelled_download_resumes_where_it_stopped() {
        let big = bytes(4 * CHUNK + 77, 3);
        let files = HashMap::from([("unet/w.safetensors".to_string(), Served::lfs(big.clone()))]);
        let (endpoint, log) = serve(files);
        let dir = tempfile::tempdir().unwrap();
        let hub = Hub::new(&endpoint, "org/model", None);
        let names = ["unet/w.safetensors"];
        let cancel = CancelAfter {
            after: CHUNK as u64,
            seen: AtomicUsize::new(0),
        };
        let err = hub.download(&names, dir.path(), &cancel).unwrap_err();
        assert!(matches!(err, MatchError::Cancelled), "{err}");
        let part = dir.path().join("unet/w.safetensors.part");
        let kept = std::fs::metadata(&part).unwrap().len();
        assert!(kept > 0 && kept < big.len() as u64, "{kept}");
        assert!(!dir.path().join(names[0]).exists());

        hub.download(&names, dir.path(), &NoProgress).unwrap();
        assert_eq!(std::fs::read(dir.path().join(names[0])).unwrap(), big);
        let last = log.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last, format!("GET /cdn/unet/w.safetensors Some({kept})"));
    }

    #[test]
    fn missing_files_and_unreachable_hubs_are_clear_errors() {
        let (endpoint, _) = serve(HashMap::new());
        let dir = tempfile::tempdir().unwrap();
        let err = Hub::new(&endpoint, "org/model", None)
            .download(&["unet/none.bin"], dir.path(), &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("org/model/unet/none.bin") && err.contains("404"),
            "{err}"
        );

        // A port nothing listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = Hub::new(&format!("http://127.0.0.1:{port}"), "org/model", None)
            .download(&["a.json"], dir.path(), &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot reach"), "{err}");
    }

    #[test]
    fn the_default_folder_follows_the_environment() {
        fn d(pairs: &[(&str, &str)]) -> Option<PathBuf> {
            default_dir_in("org/model", |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| PathBuf::from(v))
            })
        }
        let all = [
            ("FACESHOT_MODELS_DIR", "/m"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(d(&all), Some(PathBuf::from("/m/org--model")));
        assert_eq!(
            d(&[
                ("FACESHOT_MODELS_DIR", ""),
                ("XDG_DATA_HOME", "/x"),
                ("HOME", "/h")
            ]),
            Some(PathBuf::from("/x/faceshot/models/org--model"))
        );
        assert_eq!(
            d(&[("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/share/faceshot/models/org--model"))
        );
        assert_eq!(d(&[]), None);
    }
}
