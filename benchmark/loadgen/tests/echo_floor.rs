//! The floor server (`echo-floor`) must echo what a conforming client sends, byte for byte, in
//! both framings: its figures are only a ceiling if it does the whole job.

use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

async fn echoes_everything(framing: &str) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_echo-floor"))
        .args([framing, "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn echo-floor");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("listening line");
    let listening: Value = serde_json::from_str(&first).expect("JSON line");
    assert_eq!(listening["event"], "listening");
    let port = listening["port"].as_u64().expect("port");

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}"))
        .await
        .expect("connect");
    // Lengths around each header size and the 8-byte unmasking step; several frames in flight
    // so that one read holds more than one.
    let sizes = [
        0usize, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 16384, 100_003,
    ];
    let payloads: Vec<Vec<u8>> = sizes
        .iter()
        .map(|&n| (0..n).map(|i| (i * 31 + n) as u8).collect())
        .collect();
    for p in &payloads {
        ws.send(Message::binary(p.clone())).await.unwrap();
    }
    ws.send(Message::text("text stays text")).await.unwrap();
    let check = async {
        for p in &payloads {
            match ws.next().await.expect("an echo").expect("a frame") {
                Message::Binary(b) => assert_eq!(&b[..], &p[..], "echo of {} bytes", p.len()),
                other => panic!("expected binary, got {other:?}"),
            }
        }
        match ws.next().await.expect("an echo").expect("a frame") {
            Message::Text(t) => assert_eq!(t.as_str(), "text stays text"),
            other => panic!("expected text, got {other:?}"),
        }
    };
    tokio::time::timeout(Duration::from_secs(20), check)
        .await
        .expect("echoes in time");

    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"cmd\":\"stats\"}\n").await.unwrap();
    let reply: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(reply["reply"], "stats");
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits when its stdin closes")
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn raw_framing_echoes_everything() {
    echoes_everything("raw").await;
}

#[tokio::test]
async fn tungstenite_framing_echoes_everything() {
    echoes_everything("tungstenite").await;
}

#[tokio::test]
async fn other_modes_are_unavailable() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_echo-floor"))
        .args(["raw", "fanout"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["event"], "unavailable");
}
