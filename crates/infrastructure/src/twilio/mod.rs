//! Text messages through Twilio, or logged only in demo mode; Twilio's webhook signatures.

mod demo;
mod sender;
mod signature;

pub use demo::DemoSmsSender;
pub use sender::{TwilioError, TwilioSettings, TwilioSmsSender};
pub use signature::TwilioSignatureVerifier;
