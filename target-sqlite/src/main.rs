//! The `target-sqlite` binary: hands over to the library.

use std::process::ExitCode;

/// Records are parsed on one thread and freed on another; mimalloc handles that without the
/// arena lock contention glibc's allocator shows here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    target_sqlite::main()
}
