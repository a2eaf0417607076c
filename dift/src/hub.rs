//! On-demand download of the Stable Diffusion 2.1 files from the Hugging Face hub into a
//! plain diffusers folder, with progress, cancellation, resume and checksums.
//!
//! The hub is first asked about every missing file (`HEAD …/resolve/main/FILE`, redirects not
//! followed). Large (LFS) files answer with a redirect whose `X-Linked-Etag` is the file's
//! SHA-256 and `X-Linked-Size` its length; small git files (JSON, text) answer directly, their
//! `ETag` the git blob id (SHA-1 of `blob LEN\0` and the bytes). A download the disk has no
//! room for is refused before any byte moves. The redirects are signed for a limited time, so
//! the hub is asked again before a transfer when its answer is over ten minutes old, and before
//! each resume. The bytes go to `FILE.part`, read from the
//! network on a helper thread so that a cancel is taken at once even on a silent connection;
//! a connection that breaks or stalls is resumed with a `Range` request, and a cancelled
//! download keeps the partial file for the next one. A complete file is hashed, compared and
//! only then renamed into place, so a file present under its own name is always whole and
//! verified.

use super::{MatchError, hex};
use faceshot_core::progress::{Progress, byte_size};
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

/// Bytes read between progress reports.
const CHUNK: usize = 1 << 20;

/// How often a transfer waiting on the network looks whether the user cancelled.
const CANCEL_POLL: Duration = Duration::from_millis(200);

/// Tries per file: a connection that breaks or stays silent for the read timeout is resumed
/// where it stopped this many times less one.
pub const ATTEMPTS: usize = 4;

/// Pause before the first resume (then twice, three times as long).
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// How long the hub's answer about a file (its signed download address) is used before the
/// hub is asked again.
const FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// Space left free on the disk after a download.
const SPACE_MARGIN: u64 = 64 << 20;

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
    /// already there, and return `dest`. The hub is first asked about every missing file, so
    /// that a download the disk has no room for is refused before it starts. A connection that
    /// breaks or stalls is resumed from where it stopped (up to [`ATTEMPTS`] times a file);
    /// cancelling keeps the partial file for the next call.
    pub fn download(
        &self,
        files: &[&str],
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<PathBuf, MatchError> {
        let missing: Vec<&str> = files
            .iter()
            .copied()
            .filter(|f| !dest.join(f).is_file())
            .collect();
        let mut plan = Vec::with_capacity(missing.len());
        for file in &missing {
            if progress.cancelled() {
                return Err(MatchError::Cancelled);
            }
            // No count: the callers show this stage's figures as bytes.
            progress.update("asking the hub about the files", 0, None);
            plan.push((*file, self.remote(file)?));
        }
        if plan.is_empty() {
            return Ok(dest.to_path_buf());
        }
        std::fs::create_dir_all(dest).map_err(|e| MatchError::io(dest, e))?;
        let need: u64 = plan
            .iter()
            .filter_map(|(file, remote)| {
                let have = std::fs::metadata(part_path(&dest.join(file))).map_or(0, |m| m.len());
                remote.size.map(|s| s.saturating_sub(have))
            })
            .sum();
        if let Some(free) = free_space(dest) {
            check_space(need, free, dest)?;
        }
        let count = plan.len();
        for (i, (file, remote)) in plan.into_iter().enumerate() {
            let stage = format!("downloading {file} ({} of {count})", i + 1);
            self.fetch(file, remote, &dest.join(file), &stage, progress)?;
        }
        Ok(dest.to_path_buf())
    }

    /// Where `file` of the repository lives, its size and hash.
    fn remote(&self, file: &str) -> Result<Remote, MatchError> {
        let url = format!("{}/{}/resolve/main/{file}", self.endpoint, self.repo);
        self.call(self.meta.head(&url), true)
            .and_then(|meta| Remote::from_response(&meta, &url))
            .map_err(|what| MatchError::Download(format!("{}/{file}: {what}", self.repo)))
    }

    fn fetch(
        &self,
        file: &str,
        mut remote: Remote,
        target: &Path,
        stage: &str,
        progress: &dyn Progress,
    ) -> Result<(), MatchError> {
        let repo = &self.repo;
        let fail = |what: String| MatchError::Download(format!("{repo}/{file}: {what}"));
        let dir = faceshot_core::atomic::parent_dir(target);
        std::fs::create_dir_all(dir).map_err(|e| MatchError::io(dir, e))?;
        let part = part_path(target);
        let part_len = || std::fs::metadata(&part).map_or(0, |m| m.len());
        if remote.size.is_some_and(|s| part_len() > s) {
            std::fs::remove_file(&part).map_err(|e| MatchError::io(&part, e))?;
        }
        let mut attempt = 1;
        loop {
            // The hub's redirects are signed for a limited time: ask again after a while or a
            // broken transfer.
            if attempt > 1 || remote.asked.elapsed() > FRESH_FOR {
                remote = self.remote(file)?;
            }
            let have = part_len();
            let complete = remote.size.is_some_and(|s| s == have);
            // A file of unknown size is complete once a transfer ran to its end.
            let broken = if complete {
                None
            } else {
                match self.transfer(&remote, &part, have, stage, progress) {
                    Ok(()) => remote
                        .size
                        .filter(|&s| part_len() != s)
                        .map(|s| format!("the transfer ended at {} of {s} bytes", part_len())),
                    Err(Transfer::Broken(what)) => Some(what),
                    Err(Transfer::Cancelled) => return Err(MatchError::Cancelled),
                    Err(Transfer::Io(e)) => return Err(MatchError::io(&part, e)),
                    Err(Transfer::Http(what)) => return Err(fail(what)),
                }
            };
            let Some(what) = broken else { break };
            if attempt >= ATTEMPTS {
                return Err(fail(format!(
                    "{what} ({attempt} attempts); run the download again to resume"
                )));
            }
            tracing::warn!(file, attempt, "{what}; resuming");
            wait_or_cancel(RETRY_PAUSE * attempt as u32, progress)?;
            attempt += 1;
        }

        let got = part_len();
        progress.update(&format!("verifying {file}"), 0, None);
        let mismatch = match &remote.hash {
            Some(Hash::Sha256(expected)) => {
                let actual = sha256_file(&part)?;
                (&actual != expected).then(|| format!("expected SHA-256 {expected}, got {actual}"))
            }
            Some(Hash::GitBlob(expected)) => {
                let actual = git_blob_sha1_file(&part)?;
                (&actual != expected).then(|| format!("expected git blob {expected}, got {actual}"))
            }
            None => None,
        };
        if let Some(what) = mismatch {
            // A corrupt file must not be resumed or used.
            let _ = std::fs::remove_file(&part);
            return Err(fail(format!(
                "checksum mismatch ({what}); the file was removed"
            )));
        }
        std::fs::rename(&part, target).map_err(|e| MatchError::io(target, e))?;
        tracing::info!(file, bytes = got, "downloaded");
        Ok(())
    }

    /// Stream `remote` into `part`, appending from `have` bytes when the server honours the
    /// range. The network is read on a helper thread, so that a cancel is seen within
    /// [`CANCEL_POLL`] even while the connection is silent.
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
        let chunks = read_in_background(response.into_reader()).map_err(Transfer::Io)?;
        loop {
            if progress.cancelled() {
                out.flush().map_err(Transfer::Io)?;
                return Err(Transfer::Cancelled);
            }
            let chunk = match chunks.recv_timeout(CANCEL_POLL) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Transfer::Broken("the transfer stopped".into()));
                }
                Ok(Err(e)) => {
                    out.sync_all().map_err(Transfer::Io)?;
                    return Err(Transfer::Broken(format!("the connection broke: {e}")));
                }
                Ok(Ok(chunk)) => chunk,
            };
            if chunk.is_empty() {
                break;
            }
            out.write_all(&chunk).map_err(Transfer::Io)?;
            done += chunk.len() as u64;
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
    hash: Option<Hash>,
    /// When the hub said so.
    asked: std::time::Instant,
}

/// What a file's bytes must hash to.
enum Hash {
    /// An LFS file's SHA-256 (hex).
    Sha256(String),
    /// A small git file's blob id: SHA-1 of `blob LEN\0` and the bytes (hex).
    GitBlob(String),
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
        // LFS files: `X-Linked-*` describe the file itself. A small file's `ETag` is its git
        // blob id; a weak or otherwise shaped one (not from the hub) is not a hash.
        let etag = |v: &str, len: usize| {
            let v = v.trim_matches('"').to_ascii_lowercase();
            (v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit())).then_some(v)
        };
        let hash = match header("x-linked-etag") {
            Some(e) => etag(e.trim_start_matches("W/"), 64).map(Hash::Sha256),
            None if status == 200 => header("etag").and_then(|e| etag(&e, 40)).map(Hash::GitBlob),
            None => None,
        };
        let size = header("x-linked-size")
            .or_else(|| (status == 200).then(|| header("content-length")).flatten())
            .and_then(|s| s.parse().ok());
        Ok(Self {
            location,
            same_host,
            size,
            hash,
            asked: std::time::Instant::now(),
        })
    }
}

enum Transfer {
    Cancelled,
    /// Writing the file failed.
    Io(std::io::Error),
    /// The server refused the request.
    Http(String),
    /// The connection broke or went silent mid-transfer: worth resuming.
    Broken(String),
}

/// Read `reader` to its end on a new thread, in chunks of up to [`CHUNK`] bytes; an empty
/// chunk marks the end, an error (after the bytes read before it) ends the stream. The thread
/// stops at the first chunk nobody takes any more.
fn read_in_background(
    mut reader: Box<dyn Read + Send + Sync + 'static>,
) -> std::io::Result<std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(2);
    std::thread::Builder::new()
        .name("faceshot-download".into())
        .spawn(move || {
            loop {
                let mut buf = vec![0u8; CHUNK];
                let (n, error) = read_some(&mut reader, &mut buf);
                buf.truncate(n);
                if n > 0 && tx.send(Ok(buf)).is_err() {
                    break;
                }
                if let Some(e) = error {
                    let _ = tx.send(Err(e));
                    break;
                }
                if n < CHUNK {
                    let _ = tx.send(Ok(Vec::new()));
                    break;
                }
            }
        })?;
    Ok(rx)
}

/// Sleep for `pause`, waking every [`CANCEL_POLL`] to see whether the user cancelled.
fn wait_or_cancel(pause: Duration, progress: &dyn Progress) -> Result<(), MatchError> {
    let end = std::time::Instant::now() + pause;
    loop {
        if progress.cancelled() {
            return Err(MatchError::Cancelled);
        }
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(CANCEL_POLL));
    }
}

/// Refuse a download of `need` bytes into `dest` when only `free` bytes are free there
/// (keeping [`SPACE_MARGIN`] to spare).
fn check_space(need: u64, free: u64, dest: &Path) -> Result<(), MatchError> {
    if need.saturating_add(SPACE_MARGIN) <= free {
        return Ok(());
    }
    Err(MatchError::Download(format!(
        "not enough disk space in {}: the download needs {} more and {} is free; \
         free some space or choose another folder (FACESHOT_MODELS_DIR)",
        dest.display(),
        byte_size(need),
        byte_size(free)
    )))
}

/// Bytes an unprivileged user may still write on the file system holding `dir`; `None` when
/// the system does not say.
#[cfg(unix)]
#[allow(unsafe_code)]
fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is a NUL-terminated string that outlives the call and `stat` points to
    // writable memory the size of a `statvfs`, which the call fills when it returns 0.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    // Both are u64 here; narrower on 32-bit systems.
    #[allow(clippy::useless_conversion)]
    let (blocks, block_size) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    blocks.checked_mul(block_size)
}

/// Bytes free on the file system holding `dir`: not known on this system.
#[cfg(not(unix))]
fn free_space(_dir: &Path) -> Option<u64> {
    None
}

/// `FILE.part` beside `target`.
fn part_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    target.with_file_name(name)
}

/// Fill as much of `buf` as one or more reads give, up to its length: the bytes read (fewer
/// than asked at the end of the stream) and the error that stopped the reading, if any.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, MatchError> {
    digest_file(path, Sha256::new())
}

/// Git's blob id of a file (SHA-1 of `blob LEN\0` and its bytes), hex.
fn git_blob_sha1_file(path: &Path) -> Result<String, MatchError> {
    let len = std::fs::metadata(path)
        .map_err(|e| MatchError::io(path, e))?
        .len();
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {len}\0").as_bytes());
    digest_file(path, h)
}

/// `hasher` fed the bytes of the file at `path`, finished, hex.
fn digest_file(path: &Path, mut hasher: impl Digest) -> Result<String, MatchError> {
    let mut f = std::fs::File::open(path).map_err(|e| MatchError::io(path, e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut buf).map_err(|e| MatchError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::progress::NoProgress;
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// A file the test hub serves: its bytes, whether it is an LFS file (redirected to
    /// `/cdn/…` with its SHA-256) or a small git file (answered with its blob id), whether the
    /// hash announced is wrong, and what goes wrong on the wire.
    struct Served {
        body: Vec<u8>,
        lfs: bool,
        wrong_sha: bool,
        fault: Fault,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Fault {
        None,
        /// The first full transfer closes the connection after this many bytes.
        BreakOnce(usize),
        /// Every transfer sends the headers, then nothing for a minute.
        Silent,
        /// The metadata announce this size instead of the real one.
        ClaimSize(u64),
    }

    impl Served {
        fn lfs(body: Vec<u8>) -> Self {
            Self {
                body,
                lfs: true,
                wrong_sha: false,
                fault: Fault::None,
            }
        }

        fn small(body: &[u8]) -> Self {
            Self {
                body: body.to_vec(),
                lfs: false,
                wrong_sha: false,
                fault: Fault::None,
            }
        }
    }

    /// What the test hub saw: each request line with its `Range` header.
    type Log = Arc<Mutex<Vec<String>>>;

    /// A minimal HTTP/1.1 hub on localhost, one request per connection, each connection on
    /// its own thread, for the life of the test process.
    fn serve(files: HashMap<String, Served>) -> (String, Log) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Log = Arc::default();
        let seen = log.clone();
        let files = Arc::new(files);
        let broken_once = Arc::new(Mutex::new(std::collections::HashSet::<String>::new()));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (files, seen, broken_once) = (files.clone(), seen.clone(), broken_once.clone());
                std::thread::spawn(move || {
                    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
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
                    let (reply, body_at) = respond(&files, method, path, range);
                    let fault = path
                        .strip_prefix("/cdn/")
                        .and_then(|n| files.get(n))
                        .map_or(Fault::None, |f| f.fault);
                    match fault {
                        Fault::BreakOnce(after)
                            if method == "GET"
                                && range.is_none()
                                && broken_once.lock().unwrap().insert(path.to_string()) =>
                        {
                            let _ = stream.write_all(&reply[..body_at + after]);
                        }
                        Fault::Silent if method == "GET" => {
                            let _ = stream.write_all(&reply[..body_at]);
                            std::thread::sleep(Duration::from_secs(60));
                        }
                        _ => {
                            let _ = stream.write_all(&reply);
                        }
                    }
                });
            }
        });
        (format!("http://{addr}"), log)
    }

    /// The answer to a request, and where its body starts.
    fn respond(
        files: &HashMap<String, Served>,
        method: &str,
        path: &str,
        range: Option<usize>,
    ) -> (Vec<u8>, usize) {
        let head = |status: &str, headers: &[(String, String)], body: &[u8]| {
            let mut r = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
            for (k, v) in headers {
                r.push_str(&format!("{k}: {v}\r\n"));
            }
            r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let mut bytes = r.into_bytes();
            let at = bytes.len();
            if method != "HEAD" {
                bytes.extend_from_slice(body);
            }
            (bytes, at)
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
            let size = match f.fault {
                Fault::ClaimSize(s) => s,
                _ => f.body.len() as u64,
            };
            let headers = [
                ("Location".to_string(), format!("/cdn/{name}")),
                ("X-Linked-Etag".to_string(), format!("\"{sha}\"")),
                ("X-Linked-Size".to_string(), size.to_string()),
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
            _ if cdn => head("200 OK", &[], &f.body),
            _ => {
                let mut blob = sha1::Sha1::new();
                blob.update(format!("blob {}\0", f.body.len()).as_bytes());
                blob.update(&f.body);
                let id = if f.wrong_sha {
                    "0".repeat(40)
                } else {
                    hex(&blob.finalize())
                };
                head("200 OK", &[("ETag".into(), format!("\"{id}\""))], &f.body)
            }
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
            ("scheduler/c.json".to_string(), Served::small(&small)),
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
        // An LFS file against its SHA-256, a small file against its git blob id.
        for (name, lfs) in [("vae/w.safetensors", true), ("tokenizer/vocab.json", false)] {
            let files = HashMap::from([(
                name.to_string(),
                Served {
                    wrong_sha: true,
                    lfs,
                    ..Served::small(&bytes(5000, 1))
                },
            )]);
            let (endpoint, _) = serve(files);
            let dir = tempfile::tempdir().unwrap();
            let err = Hub::new(&endpoint, "org/model", None)
                .download(&[name], dir.path(), &NoProgress)
                .unwrap_err()
                .to_string();
            let kind = if lfs { "SHA-256" } else { "git blob" };
            assert!(
                err.contains("checksum mismatch") && err.contains(kind),
                "{err}"
            );
            assert!(!dir.path().join(name).exists());
            assert!(!part_path(&dir.path().join(name)).exists());
        }
    }

    #[test]
    fn git_blob_ids_are_gits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hello");
        std::fs::write(&path, b"hello\n").unwrap();
        // `echo hello | git hash-object --stdin`
        assert_eq!(
            git_blob_sha1_file(&path).unwrap(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn a_broken_connection_is_resumed_without_asking() {
        let big = bytes(3 * CHUNK + 5, 9);
        let files = HashMap::from([(
            "unet/w.safetensors".to_string(),
            Served {
                fault: Fault::BreakOnce(CHUNK + CHUNK / 2),
                ..Served::lfs(big.clone())
            },
        )]);
        let (endpoint, log) = serve(files);
        let dir = tempfile::tempdir().unwrap();
        let names = ["unet/w.safetensors"];
        Hub::new(&endpoint, "org/model", None)
            .download(&names, dir.path(), &NoProgress)
            .unwrap();
        assert_eq!(std::fs::read(dir.path().join(names[0])).unwrap(), big);
        let log = log.lock().unwrap().clone();
        let gets: Vec<&String> = log.iter().filter(|l| l.starts_with("GET")).collect();
        assert_eq!(gets.len(), 2, "{log:?}");
        // The hub was asked again for the (signed, expiring) address before resuming.
        assert!(
            log[2].starts_with("HEAD /org/model/resolve/main/"),
            "{log:?}"
        );
        assert_eq!(
            gets[1],
            &format!("GET /cdn/unet/w.safetensors Some({})", CHUNK + CHUNK / 2)
        );
    }

    /// Cancels once `at` has passed.
    struct CancelAt(std::time::Instant);

    impl Progress for CancelAt {
        fn update(&self, _stage: &str, _done: u64, _total: Option<u64>) {}
        fn cancelled(&self) -> bool {
            std::time::Instant::now() >= self.0
        }
    }

    #[test]
    fn a_silent_connection_does_not_hold_up_a_cancel() {
        let files = HashMap::from([(
            "unet/w.safetensors".to_string(),
            Served {
                fault: Fault::Silent,
                ..Served::lfs(bytes(1000, 2))
            },
        )]);
        let (endpoint, _) = serve(files);
        let dir = tempfile::tempdir().unwrap();
        let start = std::time::Instant::now();
        let cancel = CancelAt(start + Duration::from_millis(500));
        let err = Hub::new(&endpoint, "org/model", None)
            .download(&["unet/w.safetensors"], dir.path(), &cancel)
            .unwrap_err();
        assert!(matches!(err, MatchError::Cancelled), "{err}");
        // The server stays silent for a minute and the read timeout is as long: the cancel
        // was taken while the connection said nothing.
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_download_the_disk_cannot_hold_is_refused_before_it_starts() {
        let files = HashMap::from([
            ("a.json".to_string(), Served::small(b"{}")),
            (
                "unet/w.safetensors".to_string(),
                Served {
                    fault: Fault::ClaimSize(1 << 60),
                    ..Served::lfs(bytes(1000, 4))
                },
            ),
        ]);
        let (endpoint, log) = serve(files);
        let dir = tempfile::tempdir().unwrap();
        let err = Hub::new(&endpoint, "org/model", None)
            .download(&["a.json", "unet/w.safetensors"], dir.path(), &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not enough disk space"), "{err}");
        assert!(err.contains("needs 1152922 TB more"), "{err}");
        let log = log.lock().unwrap().clone();
        assert!(log.iter().all(|l| l.starts_with("HEAD")), "{log:?}");
        assert!(!dir.path().join("a.json").exists());
    }

    #[test]
    fn space_is_checked_with_a_margin_and_told_in_round_figures() {
        let dir = Path::new("/models");
        assert!(check_space(1_000, 1_000 + SPACE_MARGIN, dir).is_ok());
        let err = check_space(2_600_000_000, 1_100_000_000, dir)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("needs 2.60 GB more and 1.10 GB is free"),
            "{err}"
        );
        assert!(check_space(1_000, 1_000, dir).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn free_space_is_read_off_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_space(dir.path()).is_some_and(|b| b > 0));
        assert_eq!(free_space(&dir.path().join("no such folder")), None);
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
