//! Retargeting and preview settings as the user edits and saves them.

use serde::{Deserialize, Serialize};

/// Strength of each retargeting control (core's type: saved in projects as it is).
pub type GainSettings = faceshot_core::retarget::Gains;

/// The slider label of a control.
pub fn gain_label(control: faceshot_core::retarget::Control) -> &'static str {
    use faceshot_core::retarget::Control;
    match control {
        Control::HeadRotation => "head rotation",
        Control::HeadTranslation => "head translation",
        Control::Eyes => "eyes",
        Control::Brows => "brows",
        Control::Mouth => "mouth",
        Control::Nose => "nose",
        Control::Gaze => "gaze",
    }
}

/// Which driving frame is the driver's neutral face.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceSetting {
    /// The first frame.
    #[default]
    First,
    /// The most neutral frame, chosen automatically.
    Auto,
    /// A frame picked on the timeline (0-based).
    Frame(usize),
}

/// Everything that shapes retargeting and the preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Per-control strengths.
    pub gains: GainSettings,
    /// Reference (neutral) driving frame.
    pub reference: ReferenceSetting,
    /// Temporal smoothing of the driving landmarks, 0 (off) to 1 (strong).
    pub smoothing: f32,
    /// Keep the character's head still; transfer only the expression.
    pub expression_only: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            gains: GainSettings::default(),
            reference: ReferenceSetting::First,
            smoothing: 0.0,
            expression_only: false,
        }
    }
}

impl Settings {
    /// Bring values read from a file into range.
    pub fn sanitise(&mut self) {
        self.gains.sanitise();
        self.smoothing = if self.smoothing.is_finite() {
            self.smoothing.clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
}
