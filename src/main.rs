//! The `chatbill` command; everything it does lives in `chatbill::cli`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    chatbill::cli::main().await
}
