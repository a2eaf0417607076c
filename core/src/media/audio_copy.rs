//! Copying the driving video's audio into an MP4, trimmed to the rendered length.

use super::ffmpeg_setup::FfmpegPath;
use ffmpeg_next::{Packet, Rational, codec, encoder, format, media};
use std::path::Path;

/// Audio codecs that can be stream-copied into MP4 without re-encoding.
const MP4_AUDIO: [codec::Id; 5] = [
    codec::Id::AAC,
    codec::Id::MP3,
    codec::Id::AC3,
    codec::Id::EAC3,
    codec::Id::ALAC,
];

/// Streams audio packets from a source file into an output stream, up to a time limit.
pub(crate) struct AudioCopier {
    input: format::context::Input,
    in_index: usize,
    in_time_base: Rational,
    in_start: i64,
    out_index: usize,
    pending: Option<Packet>,
    done: bool,
}

impl AudioCopier {
    /// Open `source` and add a copy of its first audio stream to `octx`.
    ///
    /// `Ok(None)` with a reason when there is nothing to copy (no audio, or a codec MP4 cannot
    /// hold), so the caller can say why the export has no sound.
    pub(crate) fn add_to(
        source: &Path,
        octx: &mut format::context::Output,
    ) -> Result<Result<Self, String>, ffmpeg_next::Error> {
        let Ok(source_path) = FfmpegPath::new(source) else {
            return Ok(Err(format!("cannot open {}", source.display())));
        };
        let input = format::input(source_path.as_str())?;
        let Some(stream) = input.streams().best(media::Type::Audio) else {
            return Ok(Err(format!("{} has no audio", source.display())));
        };
        let id = stream.parameters().id();
        if !MP4_AUDIO.contains(&id) {
            return Ok(Err(format!(
                "{}: audio codec {id:?} cannot be copied into MP4",
                source.display()
            )));
        }
        let in_index = stream.index();
        let in_time_base = stream.time_base();
        let in_start = if stream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
            0
        } else {
            stream.start_time()
        };
        let mut ost = octx.add_stream(encoder::find(codec::Id::None))?;
        ost.set_parameters(stream.parameters());
        ost.set_time_base(in_time_base);
        clear_codec_tag(&mut ost);
        let out_index = ost.index();
        Ok(Ok(Self {
            input,
            in_index,
            in_time_base,
            in_start,
            out_index,
            pending: None,
            done: false,
        }))
    }

    /// Write every audio packet that starts before `until` seconds.
    pub(crate) fn pump(
        &mut self,
        octx: &mut format::context::Output,
        until: f64,
    ) -> Result<(), ffmpeg_next::Error> {
        let out_tb = octx
            .stream(self.out_index)
            .map(|s| s.time_base())
            .unwrap_or(self.in_time_base);
        while !self.done {
            let mut packet = match self.pending.take() {
                Some(p) => p,
                None => {
                    let mut p = Packet::empty();
                    match p.read(&mut self.input) {
                        Ok(()) => {}
                        Err(ffmpeg_next::Error::Eof) => {
                            self.done = true;
                            break;
                        }
                        Err(e) => {
                            tracing::warn!("audio copy stopped early: {e}");
                            self.done = true;
                            break;
                        }
                    }
                    if p.stream() != self.in_index {
                        continue;
                    }
                    p
                }
            };
            let pts = packet.pts().or(packet.dts()).unwrap_or(self.in_start) - self.in_start;
            let start = pts as f64 * f64::from(self.in_time_base);
            if start >= until {
                self.pending = Some(packet);
                break;
            }
            packet.set_pts(packet.pts().map(|t| t - self.in_start));
            packet.set_dts(packet.dts().map(|t| t - self.in_start));
            packet.rescale_ts(self.in_time_base, out_tb);
            packet.set_position(-1);
            packet.set_stream(self.out_index);
            packet.write_interleaved(octx)?;
        }
        Ok(())
    }
}

/// A codec tag from the source container may not be valid in MP4; zero lets the muxer choose.
#[allow(unsafe_code)]
fn clear_codec_tag(stream: &mut ffmpeg_next::StreamMut<'_>) {
    // SAFETY: `parameters()` returns the stream's live AVCodecParameters, owned by the output
    // context that `stream` borrows mutably; writing a plain integer field is sound.
    unsafe {
        (*stream.parameters().as_mut_ptr()).codec_tag = 0;
    }
}
