//! On-demand download of the Stable Diffusion 2.1 files from the Hugging Face hub, with
//! progress and a SHA-256 check of every large (LFS) file against the hub's content hash.
//!
//! The hub names LFS blobs by their SHA-256 (the `X-Linked-Etag` header), and hf-hub stores
//! each blob under that name; after a download the file is hashed and compared with it, and a
//! mismatch deletes the blob and fails. Small git files (JSON, text) have git SHA-1 etags, which
//! are not content hashes of the file alone, so they are only size-checked by the transfer.

use super::{MatchError, hex};
use crate::progress::Progress;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The default repository (the model of the official code).
pub const DEFAULT_REPO: &str = "stabilityai/stable-diffusion-2-1";

/// The files fetched (fp16 weights halve the download; they are computed in f32).
pub const FILES: [&str; 6] = [
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.fp16.safetensors",
    "text_encoder/model.fp16.safetensors",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "scheduler/scheduler_config.json",
];

struct Bridge<'a> {
    progress: &'a dyn Progress,
    stage: String,
    done: u64,
    total: u64,
}

impl hf_hub::api::Progress for Bridge<'_> {
    fn init(&mut self, size: usize, filename: &str) {
        self.stage = format!("downloading {filename}");
        self.total = size as u64;
        self.done = 0;
        self.progress.update(&self.stage, 0, Some(self.total));
    }

    fn update(&mut self, size: usize) {
        self.done += size as u64;
        self.progress
            .update(&self.stage, self.done, Some(self.total));
    }

    fn finish(&mut self) {
        self.progress
            .update(&self.stage, self.total, Some(self.total));
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, MatchError> {
    let mut f = std::fs::File::open(path).map_err(|e| MatchError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| MatchError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Check a downloaded file against its blob name when that name is a SHA-256.
/// Returns whether a check was made.
pub fn verify_blob(path: &Path) -> Result<bool, MatchError> {
    let blob = std::fs::canonicalize(path).map_err(|e| MatchError::io(path, e))?;
    let name = blob
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(false);
    }
    let got = sha256_file(&blob)?;
    if got != name {
        // Best effort: a corrupt blob must not be reused.
        let _ = std::fs::remove_file(&blob);
        return Err(MatchError::Download(format!(
            "{}: checksum mismatch (expected {name}, got {got}); the file was removed",
            path.display()
        )));
    }
    Ok(true)
}

/// Download [`FILES`] of `repo` into the hf-hub cache (`HF_HOME`, default
/// `~/.cache/huggingface`), verify them, and return the snapshot folder (a diffusers folder).
pub fn download(repo: &str, progress: &dyn Progress) -> Result<PathBuf, MatchError> {
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| MatchError::Download(e.to_string()))?;
    let repo_api = api.model(repo.to_string());
    let mut root: Option<PathBuf> = None;
    for file in FILES {
        if progress.cancelled() {
            return Err(MatchError::Cancelled);
        }
        let bridge = Bridge {
            progress,
            stage: String::new(),
            done: 0,
            total: 0,
        };
        let path = repo_api
            .download_with_progress(file, bridge)
            .map_err(|e| MatchError::Download(format!("{repo}/{file}: {e}")))?;
        progress.update(&format!("verifying {file}"), 0, None);
        verify_blob(&path)?;
        // snapshots/<commit>/<file>: the snapshot root is `depth(file)` levels up.
        let depth = Path::new(file).components().count();
        let mut r = path.clone();
        for _ in 0..depth {
            r.pop();
        }
        root = Some(r);
    }
    root.ok_or_else(|| MatchError::Download("nothing downloaded".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_named_by_its_hash_is_verified_and_a_wrong_one_removed() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"hello diffusion";
        let good = dir.path().join(hex(&Sha256::digest(data)));
        std::fs::write(&good, data).unwrap();
        assert!(verify_blob(&good).unwrap());
        let bad = dir.path().join("0".repeat(64));
        std::fs::write(&bad, data).unwrap();
        assert!(
            verify_blob(&bad)
                .unwrap_err()
                .to_string()
                .contains("checksum mismatch")
        );
        assert!(!bad.exists());
        let plain = dir.path().join("config.json");
        std::fs::write(&plain, b"{}").unwrap();
        assert!(!verify_blob(&plain).unwrap());
    }
}
