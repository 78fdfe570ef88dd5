//! The `target-postgres` binary: hands over to the library.

use std::process::ExitCode;

/// Records are parsed on one thread and freed on another: see target-sqlite's main.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    target_postgres::main()
}
