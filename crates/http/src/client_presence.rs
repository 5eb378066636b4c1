//! Whether a request's client is still connected, so that costly work nobody will read is not
//! started (SPEC §5.3: a hash whose request has given up is not started). actix-web keeps
//! running a handler after its client has gone (actix/actix-web#3462), so the connection's
//! socket is asked instead: a copy of its descriptor is kept with the connection
//! ([`remember_socket`], for `HttpServer::on_connect`) and peeked without waiting.
//!
//! A client that shuts its sending side after the request and still reads the answer (rare;
//! Go's server treats it the same way) is taken for gone once its hash has had to wait: it is
//! answered busy (503, `Retry-After: 1`). A hash that starts at once is never skipped.

use std::{
    any::Any,
    io::ErrorKind,
    net::TcpStream,
    os::fd::AsFd as _,
    sync::{Arc, Weak},
};

use actix_web::dev::Extensions;
use application::client::ClientPresence;

/// A connection's socket, a second descriptor of it, to look at without reading.
#[derive(Debug, Clone)]
pub struct ClientSocket(Arc<TcpStream>);

impl ClientSocket {
    /// Keeps `socket` (a copy of the connection's descriptor, non-blocking like the original,
    /// since both share one open file).
    #[must_use]
    pub fn new(socket: TcpStream) -> Self {
        Self(Arc::new(socket))
    }

    /// Whether the client has closed or reset the connection: one byte peeked, never waited
    /// for. Bytes waiting (a pipelined request) mean it is still there.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        is_closed(&self.0)
    }

    /// The presence this socket tells, for [`application::client::serve`]. It holds the socket
    /// weakly: once the connection is gone (its data dropped), so is the client, and a queued
    /// job never keeps a connection's descriptor open.
    #[must_use]
    pub fn presence(&self) -> ClientPresence {
        let socket: Weak<TcpStream> = Arc::downgrade(&self.0);
        ClientPresence::new(move || socket.upgrade().is_some_and(|socket| !is_closed(&socket)))
    }
}

fn is_closed(socket: &TcpStream) -> bool {
    let mut byte = [0_u8; 1];
    match socket.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        // Only what says the connection is over; a passing failure (no buffers) is no verdict.
        Err(error) => matches!(
            error.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::NotConnected
                | ErrorKind::TimedOut
        ),
    }
}

/// For `HttpServer::on_connect`: keeps a copy of a TCP connection's descriptor with the
/// connection. Without one (the copy failed: out of descriptors), requests run as before.
pub fn remember_socket(connection: &dyn Any, data: &mut Extensions) {
    let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return;
    };
    match stream.as_fd().try_clone_to_owned() {
        Ok(descriptor) => {
            data.insert(ClientSocket::new(TcpStream::from(descriptor)));
        }
        // Out of descriptors, most likely: said once per connection, so not above debug.
        Err(error) => {
            tracing::debug!(%error, "could not keep a copy of a connection's socket");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{io::Write as _, net::TcpListener};

    use super::*;

    fn connected() -> (ClientSocket, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (served, _) = listener.accept().unwrap();
        served.set_nonblocking(true).unwrap();
        (ClientSocket::new(served), client)
    }

    /// Waits (at most ten seconds) for what the client did to reach the server's socket.
    fn until(condition: impl Fn() -> bool) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !condition() {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        true
    }

    #[test]
    fn an_open_connection_is_there_with_or_without_bytes_waiting() {
        let (socket, mut client) = connected();
        assert!(!socket.is_closed());

        client.write_all(b"GET / HTTP/1.1\r\n").unwrap();

        assert!(!socket.is_closed());
        assert!(socket.presence().is_waiting());
    }

    #[test]
    fn a_connection_whose_data_is_dropped_is_gone() {
        let (socket, _client) = connected();
        let presence = socket.presence();

        drop(socket);

        assert!(!presence.is_waiting());
    }

    #[test]
    fn a_closed_connection_is_gone() {
        let (socket, client) = connected();

        drop(client);

        assert!(until(|| socket.is_closed()));
        assert!(!socket.presence().is_waiting());
    }
}
