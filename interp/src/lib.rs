//! wamr-rs threaded-code interpreter tier (under construction).
