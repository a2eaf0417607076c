//! The user's controls: reference frame, per-part gains, expression-only mode.

use super::error::RetargetError;
use std::str::FromStr;

/// Which driving frame counts as the driver's neutral face (the character's picture is taken
/// to show that same expression and pose).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reference {
    /// The first frame.
    #[default]
    First,
    /// The most neutral frame: mouth closed, eyes open, head frontal (see
    /// [`choose_reference`](super::choose_reference)).
    Auto,
    /// This frame (0-based).
    Frame(usize),
}

impl FromStr for Reference {
    type Err = RetargetError;

    /// `first`, `auto`, or a 0-based frame number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "first" => Ok(Reference::First),
            "auto" => Ok(Reference::Auto),
            n => n
                .parse()
                .map(Reference::Frame)
                .map_err(|_| RetargetError::BadReference { text: s.into() }),
        }
    }
}

/// One adjustable strength.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Control {
    /// In-plane head rotation (roll).
    HeadRotation,
    /// Head translation, including moving towards or away from the camera (face size).
    HeadTranslation,
    /// Both eyes: blinking, widening, squinting.
    Eyes,
    /// Both eyebrows.
    Brows,
    /// Lips and the jaw line's own motion (the chin drops as the mouth opens).
    Mouth,
    /// Nose bridge and nostrils.
    Nose,
    /// Where the pupils look, within the eyes.
    Gaze,
}

impl Control {
    /// Every control, in display order.
    pub const ALL: [Control; 7] = [
        Control::HeadRotation,
        Control::HeadTranslation,
        Control::Eyes,
        Control::Gaze,
        Control::Brows,
        Control::Mouth,
        Control::Nose,
    ];

    /// Name used on the command line and in the UI.
    pub fn name(self) -> &'static str {
        match self {
            Control::HeadRotation => "rotation",
            Control::HeadTranslation => "translation",
            Control::Eyes => "eyes",
            Control::Brows => "brows",
            Control::Mouth => "mouth",
            Control::Nose => "nose",
            Control::Gaze => "gaze",
        }
    }
}

impl FromStr for Control {
    type Err = RetargetError;

    /// A control by name; `head-rotation` / `head-translation` are accepted as well.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase().replace('_', "-");
        let key = key.strip_prefix("head-").unwrap_or(&key);
        Control::ALL
            .into_iter()
            .find(|c| c.name() == key)
            .ok_or_else(|| RetargetError::BadGain {
                text: s.into(),
                reason: format!(
                    "unknown control; expected one of {}",
                    Control::ALL.map(Control::name).join(", ")
                ),
            })
    }
}

/// Strength of each control: 0 freezes it, 1 follows the driver, 2 exaggerates. Serialised
/// field by field; missing fields read as 1.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Gains {
    /// See [`Control::HeadRotation`].
    pub head_rotation: f32,
    /// See [`Control::HeadTranslation`].
    pub head_translation: f32,
    /// See [`Control::Eyes`].
    pub eyes: f32,
    /// See [`Control::Brows`].
    pub brows: f32,
    /// See [`Control::Mouth`].
    pub mouth: f32,
    /// See [`Control::Nose`].
    pub nose: f32,
    /// See [`Control::Gaze`].
    pub gaze: f32,
}

impl Default for Gains {
    fn default() -> Self {
        Self::uniform(1.0)
    }
}

impl Gains {
    /// Smallest allowed gain.
    pub const MIN: f32 = 0.0;
    /// Largest allowed gain.
    pub const MAX: f32 = 2.0;

    /// Every control at the same gain.
    pub fn uniform(gain: f32) -> Self {
        Self {
            head_rotation: gain,
            head_translation: gain,
            eyes: gain,
            brows: gain,
            mouth: gain,
            nose: gain,
            gaze: gain,
        }
    }

    /// The gain of one control.
    pub fn get(&self, control: Control) -> f32 {
        match control {
            Control::HeadRotation => self.head_rotation,
            Control::HeadTranslation => self.head_translation,
            Control::Eyes => self.eyes,
            Control::Brows => self.brows,
            Control::Mouth => self.mouth,
            Control::Nose => self.nose,
            Control::Gaze => self.gaze,
        }
    }

    /// Set one control's gain, refusing values outside [0, 2].
    pub fn set(&mut self, control: Control, gain: f32) -> Result<(), RetargetError> {
        if !(Self::MIN..=Self::MAX).contains(&gain) {
            return Err(RetargetError::GainOutOfRange {
                control: control.name(),
                value: gain,
            });
        }
        match control {
            Control::HeadRotation => self.head_rotation = gain,
            Control::HeadTranslation => self.head_translation = gain,
            Control::Eyes => self.eyes = gain,
            Control::Brows => self.brows = gain,
            Control::Mouth => self.mouth = gain,
            Control::Nose => self.nose = gain,
            Control::Gaze => self.gaze = gain,
        }
        Ok(())
    }

    /// Apply a list like `mouth=1.2,eyes=0.5` on top of these gains.
    pub fn apply_list(&mut self, list: &str) -> Result<(), RetargetError> {
        let mut seen: Vec<Control> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').ok_or_else(|| RetargetError::BadGain {
                text: item.into(),
                reason: "expected name=value".into(),
            })?;
            let control: Control = name.parse()?;
            if seen.contains(&control) {
                return Err(RetargetError::BadGain {
                    text: item.into(),
                    reason: format!("{} is given twice", name.trim()),
                });
            }
            seen.push(control);
            let gain: f32 = value.trim().parse().map_err(|_| RetargetError::BadGain {
                text: item.into(),
                reason: format!("\"{}\" is not a number", value.trim()),
            })?;
            self.set(control, gain)?;
        }
        Ok(())
    }

    /// Every control with its gain, in [`Control::ALL`] order (for editors).
    pub fn each_mut(&mut self) -> [(Control, &mut f32); 7] {
        [
            (Control::HeadRotation, &mut self.head_rotation),
            (Control::HeadTranslation, &mut self.head_translation),
            (Control::Eyes, &mut self.eyes),
            (Control::Gaze, &mut self.gaze),
            (Control::Brows, &mut self.brows),
            (Control::Mouth, &mut self.mouth),
            (Control::Nose, &mut self.nose),
        ]
    }

    /// Clamp every gain into [0, 2]; a gain that is not a number becomes 1 (for values read
    /// from files).
    pub fn sanitise(&mut self) {
        for (_, g) in self.each_mut() {
            *g = if g.is_finite() {
                g.clamp(Self::MIN, Self::MAX)
            } else {
                1.0
            };
        }
    }

    /// Check every gain is in [0, 2] (fields are public, so they may have been set directly).
    pub fn validate(&self) -> Result<(), RetargetError> {
        for c in Control::ALL {
            let g = self.get(c);
            if !(Self::MIN..=Self::MAX).contains(&g) {
                return Err(RetargetError::GainOutOfRange {
                    control: c.name(),
                    value: g,
                });
            }
        }
        Ok(())
    }
}

impl FromStr for Gains {
    type Err = RetargetError;

    /// Gains from a list like `mouth=1.2,eyes=0.5`; unnamed controls stay at 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut g = Gains::default();
        g.apply_list(s)?;
        Ok(g)
    }
}

/// Everything that shapes a retargeting run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RetargetOptions {
    /// The driver's neutral frame.
    pub reference: Reference,
    /// Per-control strengths.
    pub gains: Gains,
    /// Transfer only the expression: the head keeps the character's pose (as if both head
    /// gains were 0).
    pub expression_only: bool,
}

impl RetargetOptions {
    /// The gains actually applied: the head gains are 0 in expression-only mode.
    pub fn effective_gains(&self) -> Gains {
        let mut g = self.gains;
        if self.expression_only {
            g.head_rotation = 0.0;
            g.head_translation = 0.0;
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_read_missing_fields_as_one_and_sanitise_clamps() {
        let g: Gains = serde_json::from_str(r#"{"mouth": 9.0, "eyes": 0.5}"#).unwrap();
        assert_eq!((g.mouth, g.eyes, g.nose), (9.0, 0.5, 1.0));
        let mut g = g;
        g.head_rotation = f32::NAN;
        g.brows = -3.0;
        g.sanitise();
        assert_eq!((g.mouth, g.brows, g.head_rotation), (2.0, 0.0, 1.0));
        assert!(g.validate().is_ok());
        let back: Gains = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(back, g);
    }

    #[test]
    fn gain_lists_parse() {
        let g: Gains = "mouth=1.2, eyes=0.5,head-rotation=0,translation=2"
            .parse()
            .unwrap();
        assert_eq!(g.mouth, 1.2);
        assert_eq!(g.eyes, 0.5);
        assert_eq!(g.head_rotation, 0.0);
        assert_eq!(g.head_translation, 2.0);
        assert_eq!(g.brows, 1.0);
        assert_eq!(g.gaze, 1.0);
        assert_eq!("gaze=0".parse::<Gains>().unwrap().gaze, 0.0);
        assert_eq!("".parse::<Gains>().unwrap(), Gains::default());
    }

    #[test]
    fn bad_gain_lists_say_why() {
        let msg = |s: &str| s.parse::<Gains>().unwrap_err().to_string();
        assert!(
            msg("mouth=3").contains("outside 0..2"),
            "{}",
            msg("mouth=3")
        );
        assert!(msg("mouth=-0.1").contains("outside 0..2"));
        assert!(msg("mouth=NaN").contains("outside 0..2"));
        assert!(msg("ears=1").contains("expected one of rotation, translation"));
        assert!(msg("mouth").contains("expected name=value"));
        assert!(msg("mouth=lots").contains("not a number"));
    }

    #[test]
    fn references_parse() {
        assert_eq!("auto".parse::<Reference>().unwrap(), Reference::Auto);
        assert_eq!("First".parse::<Reference>().unwrap(), Reference::First);
        assert_eq!("12".parse::<Reference>().unwrap(), Reference::Frame(12));
        assert!("-1".parse::<Reference>().is_err());
    }

    #[test]
    fn expression_only_zeroes_head_gains() {
        let opts = RetargetOptions {
            expression_only: true,
            gains: Gains::uniform(1.5),
            ..Default::default()
        };
        let g = opts.effective_gains();
        assert_eq!((g.head_rotation, g.head_translation), (0.0, 0.0));
        assert_eq!(g.mouth, 1.5);
        assert!(Gains::uniform(2.5).validate().is_err());
    }
}
