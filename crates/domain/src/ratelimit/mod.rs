//! Rate limits: the policies of the API and the generic cell rate algorithm (GCRA) that enforces
//! them. The algorithm keeps one number per key — the theoretical arrival time (TAT) — and
//! allows a whole quota in one burst, then one request per `window / limit`.

mod gcra;
mod policy;

pub use gcra::{Admission, RateStatus, admit, status};
pub use policy::{Policy, Quota};
