//! `RetainedHeap` on a worker thread after `single_arena` (a process of its own: the allocator
//! settings are process-wide, so this test cannot share a process with others).
#![allow(missing_docs, clippy::expect_used)]

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn mmapped_bytes() -> usize {
    // SAFETY: `mallinfo2` only reads allocator statistics.
    unsafe { libc::mallinfo2().hblkhd }
}

/// Whether a live 64 MiB block is served by `mmap`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn mmapped() -> bool {
    const BIG: usize = 64 << 20;
    let before = mmapped_bytes();
    let v = vec![1u8; BIG];
    let during = mmapped_bytes();
    std::hint::black_box(&v);
    during.saturating_sub(before) >= BIG
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn main() {
    use faceshot_core::heap::{RetainedHeap, single_arena};
    single_arena();
    std::thread::spawn(|| {
        assert!(mmapped(), "a 64 MiB block should be mmapped by default");
        let outer = RetainedHeap::enter();
        {
            let _inner = RetainedHeap::enter();
            assert!(!mmapped(), "mmapped while retaining");
        }
        assert!(RetainedHeap::active());
        assert!(!mmapped(), "the outer guard still retains");
        drop(outer);
        assert!(!RetainedHeap::active());
        assert!(mmapped(), "defaults not restored");
    })
    .join()
    .expect("worker thread");
    println!("heap_retain: ok");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() {}
