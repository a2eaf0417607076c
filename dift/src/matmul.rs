//! f32 matrix products on strided views of slices, on the `gemm` crate (the kernel candle
//! itself uses). The callers ([`super::winograd`], [`super::attention`], [`super::linear`]) run
//! many products in parallel tasks, so [`matmul`] runs on the calling thread alone;
//! [`matmul_parallel`] shares one product among the threads.

/// A matrix of `rows × cols` values in `data`: row `r`, column `c` at `r·row_stride +
/// c·col_stride`.
#[derive(Debug, Clone, Copy)]
pub(super) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> View<'a> {
    /// A dense row-major `rows × cols` matrix at the start of `data`.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside `data` (an empty matrix always does).
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .zip((self.cols - 1).checked_mul(self.col_stride))
            .and_then(|(a, b)| a.checked_add(b));
        last.is_some_and(|l| l < self.data.len())
    }
}

/// `dst = a · b` with `dst` row-major, its rows `dst_row_stride` apart (`a.rows × b.cols`;
/// values between the rows are left alone). Returns `false` and leaves `dst` unchanged when the
/// shapes disagree or a matrix reaches past its slice.
pub(super) fn matmul(dst: &mut [f32], dst_row_stride: usize, a: View, b: View) -> bool {
    product(dst, dst_row_stride, a, b, gemm::Parallelism::None)
}

/// [`matmul`] shared among rayon's threads: for one product too few rows to split into tasks.
pub(super) fn matmul_parallel(dst: &mut [f32], dst_row_stride: usize, a: View, b: View) -> bool {
    let threads = gemm::Parallelism::Rayon(rayon::current_num_threads());
    product(dst, dst_row_stride, a, b, threads)
}

#[allow(unsafe_code)]
fn product(
    dst: &mut [f32],
    dst_row_stride: usize,
    a: View,
    b: View,
    parallelism: gemm::Parallelism,
) -> bool {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    let dst_view = View {
        data: dst,
        rows: m,
        cols: n,
        row_stride: dst_row_stride,
        col_stride: 1,
    };
    let strides = [
        a.row_stride,
        a.col_stride,
        b.row_stride,
        b.col_stride,
        dst_row_stride,
    ];
    if b.rows != k
        || strides.iter().any(|&s| isize::try_from(s).is_err())
        || (m > 1 && dst_row_stride < n)
        || !dst_view.in_bounds()
        || !a.in_bounds()
        || !b.in_bounds()
    {
        return false;
    }
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 {
        for row in dst.chunks_mut(dst_row_stride.max(n)).take(m) {
            row[..n].fill(0.0);
        }
        return true;
    }
    // SAFETY: the checks above keep every stride within isize and every access in bounds: `a`
    // reads (r, i) with r < m, i < k and `b` reads (i, c) with i < k, c < n, inside their
    // slices; `dst` writes (r, c) at r·dst_row_stride + c, inside its slice, and distinct
    // (r, c) are distinct places since dst_row_stride ≥ n when there are several rows
    // (`in_bounds` on all three). `dst` is exclusively borrowed, so it overlaps neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            false,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: View, b: View) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for r in 0..a.rows {
            for c in 0..b.cols {
                out[r * b.cols + c] = (0..a.cols)
                    .map(|i| {
                        a.data[r * a.row_stride + i * a.col_stride]
                            * b.data[i * b.row_stride + c * b.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn products_of_strided_and_transposed_views_match_the_naive_product() {
        let x: Vec<f32> = (0..200)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        let y: Vec<f32> = (0..300)
            .map(|i| ((i * 53 % 29) as f32 - 14.0) / 9.0)
            .collect();
        let cases = [
            (View::dense(&x, 5, 7), View::dense(&y, 7, 9)),
            // b transposed: 9 × 7 stored, used as 7 × 9.
            (View::dense(&x, 5, 7), View::dense(&y, 9, 7).t()),
            // a with a row stride wider than its columns.
            (
                View {
                    data: &x,
                    rows: 4,
                    cols: 6,
                    row_stride: 10,
                    col_stride: 1,
                },
                View::dense(&y[3..], 6, 11),
            ),
        ];
        for (a, b) in cases {
            let mut got = vec![f32::NAN; a.rows * b.cols];
            assert!(matmul(&mut got, b.cols, a, b));
            for (g, w) in got.iter().zip(naive(a, b)) {
                assert!((g - w).abs() < 1e-4, "{g} vs {w}");
            }
            // Into the rows of a wider matrix: the values between the rows stay as they were.
            let stride = 2 * b.cols + 1;
            let mut wide = vec![-1.0f32; (a.rows - 1) * stride + b.cols];
            assert!(matmul(&mut wide, stride, a, b));
            for r in 0..a.rows {
                for c in 0..b.cols {
                    assert!((wide[r * stride + c] - got[r * b.cols + c]).abs() < 1e-5);
                }
                if r + 1 < a.rows {
                    assert!(
                        wide[r * stride + b.cols..(r + 1) * stride]
                            .iter()
                            .all(|&v| v == -1.0)
                    );
                }
            }
        }
    }

    #[test]
    fn mismatched_or_out_of_bounds_views_are_refused() {
        let x = vec![1.0f32; 12];
        let mut dst = vec![7.0f32; 6];
        let (a, b) = (View::dense(&x, 2, 3), View::dense(&x, 3, 3));
        // Inner sizes differ.
        assert!(!matmul(&mut dst, 3, a, View::dense(&x, 2, 3)));
        // dst too short, or rows that overlap.
        assert!(!matmul(&mut dst[..5], 3, a, b));
        assert!(!matmul(&mut dst, 2, a, b));
        // A stride beyond isize.
        let far = View {
            row_stride: usize::MAX,
            ..View::dense(&x, 1, 3)
        };
        assert!(!matmul(&mut dst[..3], 3, far, b));
        // A view that reaches past its slice.
        assert!(!matmul(
            &mut dst,
            3,
            View::dense(&x, 2, 7),
            View::dense(&x, 7, 3)
        ));
        assert!(dst.iter().all(|&v| v == 7.0), "dst untouched");
        // An empty inner dimension gives zeros, in the rows only.
        let mut wide = vec![7.0f32; 8];
        assert!(matmul(
            &mut wide,
            5,
            View::dense(&x, 2, 0),
            View::dense(&x, 0, 3)
        ));
        assert_eq!(wide, [0.0, 0.0, 0.0, 7.0, 7.0, 0.0, 0.0, 0.0]);
    }
}
