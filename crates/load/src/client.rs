//! One keep-alive HTTP/1.1 connection posting JSON-RPC bodies.

use crate::LoadError;
use std::net::SocketAddr;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

/// The largest answer read (the node's own response limit is 64 MiB).
const MAX_BODY: usize = 128 << 20;

/// A connection to one endpoint, opened on first use and again after the server closes it.
#[derive(Debug)]
pub struct Connection {
    target: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// A connection to `target`, not yet open.
    pub const fn new(target: SocketAddr) -> Self {
        Self { target, stream: None }
    }

    /// Posts `body` and returns the answer's body.
    pub async fn post(&mut self, body: &str) -> Result<Vec<u8>, LoadError> {
        let result = self.exchange(body).await;
        if result.is_err() {
            // the next call opens a fresh connection
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, body: &str) -> Result<Vec<u8>, LoadError> {
        let http = |what: String| LoadError::Http(what);
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.target)
                .await
                .map_err(|e| http(format!("connecting to {}: {e}", self.target)))?;
            stream.set_nodelay(true).ok();
            self.stream = Some(BufReader::new(stream));
        }
        let Some(stream) = self.stream.as_mut() else { return Err(http("no connection".into())) };
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: \
             {}\r\n\r\n{body}",
            self.target,
            body.len()
        );
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .map_err(|e| http(format!("sending: {e}")))?;
        let mut status = String::new();
        stream.read_line(&mut status).await.map_err(|e| http(format!("reading: {e}")))?;
        if status.is_empty() {
            return Err(http("the server closed the connection".into()));
        }
        if !status.starts_with("HTTP/1.1 ") {
            return Err(http(format!("not an HTTP answer: {status:?}")));
        }
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.map_err(|e| http(format!("reading: {e}")))?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else { continue };
            let (name, value) = (name.to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let body = match (length, chunked) {
            (Some(n), _) if n <= MAX_BODY => {
                let mut body = vec![0; n];
                stream.read_exact(&mut body).await.map_err(|e| http(format!("reading: {e}")))?;
                body
            }
            (None, true) => read_chunked(stream).await?,
            _ => return Err(http(format!("an answer of unknown or excessive length: {status}"))),
        };
        if close {
            self.stream = None;
        }
        if !status.starts_with("HTTP/1.1 200") {
            return Err(http(format!("{}: {}", status.trim_end(), String::from_utf8_lossy(&body))));
        }
        Ok(body)
    }
}

async fn read_chunked(stream: &mut BufReader<TcpStream>) -> Result<Vec<u8>, LoadError> {
    let http = |what: String| LoadError::Http(what);
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.map_err(|e| http(format!("reading: {e}")))?;
        let size = usize::from_str_radix(line.trim_end().split(';').next().unwrap_or(""), 16)
            .map_err(|_| http(format!("a bad chunk size {line:?}")))?;
        if body.len() + size > MAX_BODY {
            return Err(http("an answer over the size limit".into()));
        }
        let mut chunk = vec![0; size + 2];
        stream.read_exact(&mut chunk).await.map_err(|e| http(format!("reading: {e}")))?;
        body.extend_from_slice(&chunk[..size]);
        if size == 0 {
            return Ok(body);
        }
    }
}
