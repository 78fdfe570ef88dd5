//! The `tap-github` binary: hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    tap_github::main()
}
