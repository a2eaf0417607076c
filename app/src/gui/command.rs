//! What the views ask of the app. A view pushes a [`UiCommand`] instead of calling the app;
//! [`FaceShotApp::run_command`](super::app::FaceShotApp::run_command) applies each one in one
//! place after the frame is laid out.

use super::dialogs::DialogPurpose;
use super::worker::JobId;

/// An action a view requests.
#[derive(Clone, Debug, PartialEq)]
pub enum UiCommand {
    /// Open a native file dialog for this purpose.
    OpenDialog(DialogPurpose),
    /// Save the project where it was last saved (else ask where).
    SaveProject,
    /// Load the shipped sample.
    LoadSample,
    /// Undo the last edit.
    Undo,
    /// Redo the last undone edit.
    Redo,
    /// The landmarks or settings were edited in place (times the edit-to-preview latency).
    Edited,
    /// Run the chosen matcher again on the character.
    Rematch,
    /// Track the faces of the driving video.
    TrackFaces,
    /// Start or stop placing the face by five clicks.
    TogglePlaceByClicks,
    /// Fit all 68 points to the clicks placed so far.
    FitToClicks,
    /// Start or stop picking the face to match by dragging a box around it.
    ToggleFaceBox,
    /// Match the face inside the box dragged on the canvas.
    MatchInBox,
    /// Download the diffusion matcher's weights.
    DownloadWeights,
    /// Ask a job to stop.
    CancelJob(JobId),
    /// Start the export the dialog describes.
    StartExport,
    /// Show or hide the performance readout.
    TogglePerf,
    /// Clear the messages.
    ClearNotices,
    /// Start live mode from the source the panel names (or stop it when running).
    ToggleLive,
    /// Take the live driver's current face as its neutral face.
    SetNeutral,
    /// Mirror the live camera (or not).
    SetLiveMirror(bool),
}
