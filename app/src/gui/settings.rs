//! Retargeting and preview settings as the user edits and saves them.

use serde::{Deserialize, Serialize};

/// Strength of each retargeting control: 0 freezes it, 1 follows the driver, 2 exaggerates.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GainSettings {
    /// In-plane head rotation.
    pub head_rotation: f32,
    /// Head translation and size.
    pub head_translation: f32,
    /// Blinks and eye widening.
    pub eyes: f32,
    /// Eyebrows.
    pub brows: f32,
    /// Lips and jaw.
    pub mouth: f32,
    /// Nose.
    pub nose: f32,
}

impl Default for GainSettings {
    fn default() -> Self {
        Self {
            head_rotation: 1.0,
            head_translation: 1.0,
            eyes: 1.0,
            brows: 1.0,
            mouth: 1.0,
            nose: 1.0,
        }
    }
}

impl GainSettings {
    /// Smallest gain.
    pub const MIN: f32 = 0.0;
    /// Largest gain.
    pub const MAX: f32 = 2.0;

    /// (label, value) for every control, in display order.
    pub fn fields_mut(&mut self) -> [(&'static str, &mut f32); 6] {
        [
            ("head rotation", &mut self.head_rotation),
            ("head translation", &mut self.head_translation),
            ("eyes", &mut self.eyes),
            ("brows", &mut self.brows),
            ("mouth", &mut self.mouth),
            ("nose", &mut self.nose),
        ]
    }

    /// Clamp every gain into [MIN, MAX] (NaN becomes 1).
    pub fn sanitise(&mut self) {
        for (_, g) in self.fields_mut() {
            *g = if g.is_finite() {
                g.clamp(Self::MIN, Self::MAX)
            } else {
                1.0
            };
        }
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
