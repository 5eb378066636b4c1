//! Text messages through Twilio, or logged only in demo mode.

mod demo;
mod sender;

pub use demo::DemoSmsSender;
pub use sender::{TwilioError, TwilioSettings, TwilioSmsSender};
