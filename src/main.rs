fn main() -> std::process::ExitCode {
    arca::cli::main()
}
