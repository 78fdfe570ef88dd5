//! The `tap-rest` binary: hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    tap_rest::main(None)
}
