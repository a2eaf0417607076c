//! Keeping freed memory in the process while a large model runs.
//!
//! A Stable Diffusion pass allocates and frees tensors of hundreds of megabytes, op after op.
//! glibc serves every block above its mmap threshold with a fresh `mmap` and unmaps it on
//! free, so each new tensor pays for page faults and for the kernel zeroing its pages: about a
//! fifth of each SD-2.1 U-Net pass at 512². While a
//! [`RetainedHeap`] guard lives, allocations come from the heap and freed memory stays there
//! for the next op; when the last guard drops, large blocks are mmapped again and free memory
//! is given back to the system.
//!
//! glibc serves large blocks of a thread's own arena with `mmap` whatever the settings, so a
//! binary that runs models on worker threads calls [`single_arena`] before it starts any thread.
//! Elsewhere than glibc both do nothing.

use std::sync::Mutex;

/// Makes every thread allocate from the main arena, the one [`RetainedHeap`] governs. Call
/// before any thread is started (threads keep the arena they first used).
pub fn single_arena() {
    sys::single_arena();
}

/// Guards alive (the options are changed by the first and restored by the last).
static ACTIVE: Mutex<usize> = Mutex::new(0);

/// While alive, freed memory is kept for reuse instead of being unmapped (glibc only).
#[derive(Debug)]
pub struct RetainedHeap {
    _private: (),
}

impl RetainedHeap {
    /// Starts retaining (nested and concurrent guards are counted).
    pub fn enter() -> Self {
        let mut n = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        if *n == 0 {
            sys::retain(true);
        }
        *n += 1;
        Self { _private: () }
    }

    /// Whether any guard is alive.
    pub fn active() -> bool {
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) > 0
    }
}

impl Drop for RetainedHeap {
    fn drop(&mut self) {
        let mut n = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        if *n == 0 {
            sys::retain(false);
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod sys {
    /// glibc's default cap on mmapped blocks.
    const DEFAULT_MMAP_MAX: libc::c_int = 65536;
    /// Setting any threshold stops glibc adapting them, so afterwards they are left where its
    /// adaptation takes them once large blocks have been freed: blocks from 32 MiB (its
    /// ceiling) are mmapped, the heap top is trimmed above twice that.
    const AFTER_MMAP_THRESHOLD: libc::c_int = 32 << 20;
    const AFTER_TRIM_THRESHOLD: libc::c_int = 64 << 20;

    pub(super) fn single_arena() {
        // SAFETY: `mallopt` only adjusts glibc's allocator parameters under its own lock.
        if unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) } != 1 {
            tracing::debug!("mallopt refused M_ARENA_MAX");
        }
    }

    pub(super) fn retain(on: bool) {
        let (mmap_max, trim) = if on {
            (0, libc::c_int::MAX)
        } else {
            (DEFAULT_MMAP_MAX, AFTER_TRIM_THRESHOLD)
        };
        // SAFETY: `mallopt` and `malloc_trim` only adjust glibc's allocator parameters and
        // release free pages; they take the allocator's own locks and touch no Rust memory.
        let ok = unsafe {
            libc::mallopt(libc::M_MMAP_MAX, mmap_max) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, trim) == 1
                && (on || libc::mallopt(libc::M_MMAP_THRESHOLD, AFTER_MMAP_THRESHOLD) == 1)
        };
        if !ok {
            tracing::debug!("mallopt refused the heap settings (retain = {on})");
        }
        if !on {
            // SAFETY: as above.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod sys {
    pub(super) fn single_arena() {}
    pub(super) fn retain(_on: bool) {}
}
