//! The `faceshot` binary: headless subcommands (the GUI comes later).

fn main() {
    println!("faceshot {}", env!("CARGO_PKG_VERSION"));
}
