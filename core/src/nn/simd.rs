//! The one run-time instruction-set dispatch of FaceShot's kernels: a [`Kernel`] runs compiled
//! for AVX2/FMA where the CPU has them (checked once, through `pulp`), else as plain Rust. The
//! tracker's networks ([`super::ops`]) and the diffusion matcher's fused ops both go through it.

/// A computation whose loops should vectorise where the CPU allows.
pub trait Kernel {
    /// What it returns.
    type Output;
    /// Runs it; called inside an AVX2/FMA context when the CPU has them, so that everything
    /// inlined here is compiled for those instructions.
    fn run(self) -> Self::Output;
}

/// Runs `kernel` compiled for AVX2/FMA when the CPU has them, else plainly.
#[inline(always)]
pub fn vectorized<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = pulp::x86::V3::try_new() {
        return v3.vectorize(OnV3(kernel));
    }
    kernel.run()
}

/// A [`Kernel`] as a `pulp` operation: a named type whose `call` is always inlined, so the whole
/// kernel is compiled inside `vectorize`'s target-feature context (a closure would not be).
#[cfg(target_arch = "x86_64")]
struct OnV3<K>(K);

#[cfg(target_arch = "x86_64")]
impl<K: Kernel> pulp::NullaryFnOnce for OnV3<K> {
    type Output = K::Output;

    #[inline(always)]
    fn call(self) -> K::Output {
        self.0.run()
    }
}
