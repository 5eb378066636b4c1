//! Identity: sign-up, login, sessions (access and refresh tokens), the caller's own profile, and
//! the GDPR export and erasure.

mod account_data;
mod authenticate;
mod login;
pub mod ports;
mod principal;
mod profile;
mod register;
mod service;
mod session;

pub use account_data::{AccountExport, AccountRecords, EraseError};
pub use authenticate::AuthenticateError;
pub use login::{Credentials, LoginError};
pub use principal::Principal;
pub use profile::{ProfileChanges, ProfileError, UpdateProfileError};
pub use register::{RegisterError, Registration};
pub use service::{Identity, IdentityPorts};
pub use session::{RefreshError, Session};
