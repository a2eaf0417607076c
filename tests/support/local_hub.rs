//! A stand-in for the Hugging Face hub on localhost, shared by the UI and end-to-end tests:
//! every file it is asked for exists, with a short body naming its path (answered directly,
//! as the hub answers small git files). One request per connection.

use std::io::{BufRead, Write};

/// Start the server for the rest of the test process; returns its address (`http://…`).
pub fn local_hub() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = std::io::BufReader::new(clone);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
            }
            let mut parts = line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let body = format!("test bytes of {path}");
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            if method == "GET" {
                reply.push_str(&body);
            }
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    format!("http://{addr}")
}

/// A local port nothing listens on.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
