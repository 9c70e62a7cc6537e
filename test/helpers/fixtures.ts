import { fileURLToPath } from "node:url";

/** The echo app module: hello, whoami and echo (acknowledges with what it got). */
export const ECHO_APP = fileURLToPath(new URL("../fixtures/echo-app.mjs", import.meta.url));

/** The demo app without connection-state recovery (pub/sub or IPC, no recovery log). */
export const PUBSUB_DEMO_APP = fileURLToPath(new URL("../fixtures/pubsub-demo-app.mjs", import.meta.url));

/** 3,000 Korean characters: three bytes each in UTF-8, so TCP segments split characters. */
export const KOREAN_TEXT = "가나다라마바사아자차카타파하한국어".repeat(200).slice(0, 3000);

/** 200 KiB of every byte value, in a pattern that shows any shift or loss. */
export function binaryPayload(size = 200 * 1024): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + (i >> 8)) & 0xff;
  return buffer;
}
