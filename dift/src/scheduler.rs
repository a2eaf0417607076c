//! The DDIM schedule and its inverse step (as diffusers' `DDIMInverseScheduler`), and the
//! forward noising used by the original DIFT.

use serde::Deserialize;

/// What the U-Net predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prediction {
    /// The noise ε.
    Epsilon,
    /// The velocity v (SD 2.1 768-v).
    V,
}

/// Scheduler settings, as in a diffusers `scheduler_config.json`.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Cumulative ᾱ for t = 0..N-1.
    pub alphas_cumprod: Vec<f64>,
    /// Prediction type.
    pub prediction: Prediction,
    /// ᾱ used before the first step (1 when `set_alpha_to_one`, else ᾱ₀).
    pub initial_alpha: f64,
    /// `steps_offset`.
    pub steps_offset: usize,
}

#[derive(Deserialize)]
struct SchedulerFile {
    #[serde(default = "d_start")]
    beta_start: f64,
    #[serde(default = "d_end")]
    beta_end: f64,
    #[serde(default = "d_sched")]
    beta_schedule: String,
    #[serde(default = "d_n")]
    num_train_timesteps: usize,
    #[serde(default = "d_pred")]
    prediction_type: String,
    #[serde(default)]
    set_alpha_to_one: bool,
    #[serde(default = "d_off")]
    steps_offset: usize,
}
fn d_start() -> f64 {
    0.00085
}
fn d_end() -> f64 {
    0.012
}
fn d_sched() -> String {
    "scaled_linear".into()
}
fn d_n() -> usize {
    1000
}
fn d_pred() -> String {
    "v_prediction".into()
}
fn d_off() -> usize {
    1
}

impl Schedule {
    /// From explicit values.
    pub fn new(
        beta_start: f64,
        beta_end: f64,
        scaled_linear: bool,
        n: usize,
        prediction: Prediction,
        set_alpha_to_one: bool,
        steps_offset: usize,
    ) -> Self {
        let mut acc = 1.0;
        let alphas_cumprod: Vec<f64> = (0..n)
            .map(|i| {
                let f = if n > 1 {
                    i as f64 / (n - 1) as f64
                } else {
                    0.0
                };
                let beta = if scaled_linear {
                    let s = beta_start.sqrt() + f * (beta_end.sqrt() - beta_start.sqrt());
                    s * s
                } else {
                    beta_start + f * (beta_end - beta_start)
                };
                acc *= 1.0 - beta;
                acc
            })
            .collect();
        let initial_alpha = if set_alpha_to_one {
            1.0
        } else {
            alphas_cumprod[0]
        };
        Self {
            alphas_cumprod,
            prediction,
            initial_alpha,
            steps_offset,
        }
    }

    /// Stable Diffusion 2.1 (768-v): scaled-linear 0.00085–0.012, v-prediction.
    pub fn sd21() -> Self {
        Self::new(0.00085, 0.012, true, 1000, Prediction::V, false, 1)
    }

    /// Parse a diffusers scheduler config (unknown fields ignored, missing ones = SD 2.1).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let f: SchedulerFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let prediction = match f.prediction_type.as_str() {
            "epsilon" => Prediction::Epsilon,
            "v_prediction" => Prediction::V,
            other => return Err(format!("unsupported prediction_type {other}")),
        };
        let scaled = match f.beta_schedule.as_str() {
            "scaled_linear" => true,
            "linear" => false,
            other => return Err(format!("unsupported beta_schedule {other}")),
        };
        Ok(Self::new(
            f.beta_start,
            f.beta_end,
            scaled,
            f.num_train_timesteps,
            prediction,
            f.set_alpha_to_one,
            f.steps_offset,
        ))
    }

    /// Number of training timesteps.
    pub fn train_steps(&self) -> usize {
        self.alphas_cumprod.len()
    }

    /// The inversion timesteps for `steps` inference steps ("leading" spacing, ascending).
    pub fn inverse_timesteps(&self, steps: usize) -> Vec<usize> {
        let ratio = self.train_steps() / steps.max(1);
        (0..steps).map(|k| k * ratio + self.steps_offset).collect()
    }

    /// Coefficients `(cx, co)` of one inverse DDIM step `x_t = cx·x_prev + co·model_out`, where
    /// the model was run at timestep `t` on `x_prev` (the sample at `t - ratio`).
    pub fn inverse_step_coeffs(&self, t: usize, steps: usize) -> (f64, f64) {
        let ratio = self.train_steps() / steps.max(1);
        let cur = t as i64 - ratio as i64;
        let a_cur = if cur >= 0 {
            self.alphas_cumprod[(cur as usize).min(self.train_steps() - 1)]
        } else {
            self.initial_alpha
        };
        let a_next = self.alphas_cumprod[t.min(self.train_steps() - 1)];
        let (sc, sn) = (a_cur.sqrt(), (1.0 - a_cur).sqrt());
        let (tc, tn) = (a_next.sqrt(), (1.0 - a_next).sqrt());
        // x0 = p·x + q·out ; eps = r·x + s·out ; x_next = tc·x0 + tn·eps
        let (p, q, r, s) = match self.prediction {
            Prediction::Epsilon => (1.0 / sc, -sn / sc, 0.0, 1.0),
            Prediction::V => (sc, -sn, sn, sc),
        };
        (tc * p + tn * r, tc * q + tn * s)
    }

    /// `(√ᾱ_t, √(1-ᾱ_t))` for forward noising.
    pub fn noise_coeffs(&self, t: usize) -> (f64, f64) {
        let a = self.alphas_cumprod[t.min(self.train_steps() - 1)];
        (a.sqrt(), (1.0 - a).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd21_schedule_values() {
        let s = Schedule::sd21();
        assert_eq!(s.inverse_timesteps(50)[..3], [1, 21, 41]);
        assert_eq!(s.inverse_timesteps(50)[15], 301);
        // ᾱ decreases from ~0.99915 to ~0.0047 (known SD values).
        assert!((s.alphas_cumprod[0] - 0.99915).abs() < 1e-5);
        assert!((s.alphas_cumprod[999] - 0.0047).abs() < 2e-4);
    }

    #[test]
    fn inverse_step_is_exact_for_a_perfect_noise_prediction() {
        // With ε-prediction and the true noise, inverting x_s gives exactly x_t.
        let s = Schedule::new(0.00085, 0.012, true, 1000, Prediction::Epsilon, false, 1);
        let (x0, eps) = (0.7f64, -1.3f64);
        let at = |t: usize| s.alphas_cumprod[t];
        let xs = at(21).sqrt() * x0 + (1.0 - at(21)).sqrt() * eps;
        let (cx, co) = s.inverse_step_coeffs(41, 50);
        let xt = cx * xs + co * eps;
        let expect = at(41).sqrt() * x0 + (1.0 - at(41)).sqrt() * eps;
        assert!((xt - expect).abs() < 1e-12);
        // Same in v-prediction: v = √ᾱ ε − √(1−ᾱ) x0.
        let sv = Schedule::sd21();
        let v = at(21).sqrt() * eps - (1.0 - at(21)).sqrt() * x0;
        let (cx, co) = sv.inverse_step_coeffs(41, 50);
        assert!((cx * xs + co * v - expect).abs() < 1e-12);
    }

    #[test]
    fn parses_a_diffusers_config() {
        let s = Schedule::from_json(
            r#"{"_class_name":"PNDMScheduler","beta_end":0.012,"beta_schedule":"scaled_linear",
            "beta_start":0.00085,"prediction_type":"epsilon","set_alpha_to_one":false,"steps_offset":1}"#,
        )
        .unwrap();
        assert_eq!(s.prediction, Prediction::Epsilon);
        assert!(Schedule::from_json(r#"{"prediction_type":"sample"}"#).is_err());
    }
}
