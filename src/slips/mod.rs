//! Payment slips and payment QR codes: safe download, bounded decoding,
//! pre-checks (duplicates, the bank's verification QR) and QR bills.
//!
//! - [`fetch`]: the download policy (allow-list, SSRF checks, caps).
//! - [`analyze`]: sniff, decode under limits, orientation, hashes, QR scan.
//! - [`slip_qr`] / [`emvco`]: the Thai slip verification QR and the TLV/CRC
//!   grammar; [`payment_qr`]: PromptPay / VietQR payloads and PNGs.
//! - [`media`]: originals and thumbnails on disk (seller only), public QR PNGs
//!   and product pictures; [`picture`]: an upload made fit to serve.
//!
//! What a slip means for its order is decided in `app::slips`; the worker
//! that claims downloads is `workers::slips`.

pub mod analyze;
pub mod emvco;
pub mod fetch;
pub mod media;
pub mod payment_qr;
pub mod picture;
pub mod slip_qr;

pub use analyze::Problem;
