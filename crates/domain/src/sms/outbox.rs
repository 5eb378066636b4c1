//! The timing of the outbox (SPEC §6.1): how long a worker holds a message it is sending, and
//! when a send whose outcome is unknown is looked up at the provider.

use chrono::TimeDelta;

/// How long a worker holds a pending message; a holder that has not finished by then is taken
/// to have died, and another worker takes the message over.
pub const SEND_LEASE: TimeDelta = TimeDelta::minutes(5);

/// How long after an attempt with an unknown outcome the provider is asked about it: it lists a
/// message only once it has stored it.
pub const LOOKUP_AFTER: TimeDelta = TimeDelta::minutes(1);

/// How long after an attempt with an unknown outcome a lookup that finds nothing means the
/// provider never took the message, so that sending it again cannot double it.
pub const NOT_FOUND_AFTER: TimeDelta = TimeDelta::minutes(30);
