//! One binary for both targets: in the browser (wasm32) it starts the web app; natively it
//! is the trainer's command line.

#[cfg(target_arch = "wasm32")]
fn main() {
    digitpad::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use digitpad::train::run::Interrupted;
    match digitpad::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<Interrupted>() => {
            eprintln!("{e}");
            std::process::ExitCode::from(digitpad::cli::EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
