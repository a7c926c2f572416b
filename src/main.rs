fn main() -> std::process::ExitCode {
    prodcheck::cli::main()
}
