//! The fold guard: never fold the image; give up motion instead.
//!
//! A frame is first tried with all of its motion. When the resulting map's smallest Jacobian
//! determinant is below the threshold (it would fold, tear or nearly so), the expression — the
//! motion relative to the head's similarity — is scaled back by bisection while the head keeps
//! its full pose; only if the head pose alone already folds (e.g. a translation far beyond the
//! still ring) is the head motion scaled back as well, with no expression. The result is always
//! an attempt that was actually checked, or the identity, so the map returned is injective.

/// How much of a frame's motion to keep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Motion {
    /// Fraction of the head similarity, 0–1.
    pub head: f32,
    /// Fraction of the expression on top of it, 0–1.
    pub expression: f32,
}

/// One evaluated try: its smallest Jacobian determinant and what it produced.
pub(crate) struct Attempt<T> {
    pub min_det: f32,
    pub value: T,
}

/// Find the most motion whose map keeps every Jacobian determinant at or above `min_det`.
///
/// `attempt` evaluates a motion (`None` when the map cannot even be solved, which counts as a
/// fold); `identity` makes the no-motion result, used when nothing else passes.
pub(crate) fn limit_motion<T>(
    min_det: f32,
    steps: u32,
    attempt: impl Fn(Motion) -> Option<Attempt<T>>,
    identity: impl FnOnce() -> T,
) -> (Motion, f32, T) {
    let ok = |m: Motion| attempt(m).filter(|a| a.min_det >= min_det && a.min_det.is_finite());
    let full = Motion {
        head: 1.0,
        expression: 1.0,
    };
    if let Some(a) = ok(full) {
        return (full, a.min_det, a.value);
    }
    let search = |make: &dyn Fn(f32) -> Motion, mut best: Attempt<T>| -> (f32, Attempt<T>) {
        let (mut lo, mut hi) = (0.0f32, 1.0f32);
        for _ in 0..steps {
            let mid = 0.5 * (lo + hi);
            match ok(make(mid)) {
                Some(a) => {
                    lo = mid;
                    best = a;
                }
                None => hi = mid,
            }
        }
        (lo, best)
    };
    let head_only = Motion {
        head: 1.0,
        expression: 0.0,
    };
    if let Some(base) = ok(head_only) {
        let (e, a) = search(
            &|e| Motion {
                head: 1.0,
                expression: e,
            },
            base,
        );
        return (
            Motion {
                head: 1.0,
                expression: e,
            },
            a.min_det,
            a.value,
        );
    }
    let still = Motion {
        head: 0.0,
        expression: 0.0,
    };
    match ok(still) {
        Some(base) => {
            let (h, a) = search(
                &|h| Motion {
                    head: h,
                    expression: 0.0,
                },
                base,
            );
            (
                Motion {
                    head: h,
                    expression: 0.0,
                },
                a.min_det,
                a.value,
            )
        }
        None => (still, 1.0, identity()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in map whose determinant falls linearly with the motion.
    fn fake(m: Motion) -> Option<Attempt<Motion>> {
        Some(Attempt {
            min_det: 1.0 - 0.8 * m.head - 1.5 * m.expression * m.head,
            value: m,
        })
    }

    #[test]
    fn full_motion_passes_untouched() {
        let gentle = |m: Motion| {
            Some(Attempt {
                min_det: 1.0 - 0.5 * m.head - 0.3 * m.expression,
                value: m,
            })
        };
        let (m, det, _) = limit_motion(0.1, 6, gentle, || Motion {
            head: 0.0,
            expression: 0.0,
        });
        assert_eq!(
            m,
            Motion {
                head: 1.0,
                expression: 1.0
            }
        );
        assert!(det >= 0.1);
    }

    #[test]
    fn expression_is_limited_before_the_head() {
        let (m, det, v) = limit_motion(0.05, 8, fake, || Motion {
            head: 0.0,
            expression: 0.0,
        });
        assert_eq!(m.head, 1.0);
        // 1 − 0.8 − 1.5e ≥ 0.05  ⇔  e ≤ 0.1
        assert!(m.expression <= 0.1 && m.expression > 0.09, "{m:?}");
        assert!(det >= 0.05);
        assert_eq!(v, m);
    }

    #[test]
    fn head_is_limited_when_the_pose_alone_folds() {
        let steep = |m: Motion| {
            Some(Attempt {
                min_det: 1.0 - 2.0 * m.head - m.expression,
                value: m,
            })
        };
        let (m, det, _) = limit_motion(0.0, 10, steep, || Motion {
            head: 0.0,
            expression: 0.0,
        });
        assert_eq!(m.expression, 0.0);
        assert!(m.head <= 0.5 && m.head > 0.49, "{m:?}");
        assert!(det >= 0.0);
        let never = |_m: Motion| -> Option<Attempt<Motion>> { None };
        let (m, det, v) = limit_motion(0.0, 4, never, || Motion {
            head: -1.0,
            expression: -1.0,
        });
        assert_eq!((m.head, m.expression, det, v.head), (0.0, 0.0, 1.0, -1.0));
    }
}
