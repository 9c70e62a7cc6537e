/**
 * The demo page's member count across pages and a worker's death, in a real headless Chromium
 * (issue 17: after a worker was killed, one page showed "1 member" while the other showed 2).
 * Three pages, two on worker 0 and one on worker 1 (by a forwarded address; the gateway trusts
 * 127.0.0.1), Redis. The pages load with no console error (the favicon included); after kill -9
 * of worker 0, its pages reconnect to the replacement and join again, and every page ends on
 * the same, right count.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { Page } from "playwright-core";
import { presenceKeys } from "../../adapter/presence/presence-keys.js";
import { PRESENCE_EXPIRY_BOUND } from "../../adapter/presence/timing.js";
import { DemoPageRig, forwardedFor } from "../helpers/demo-page.js";
import { waitUntil } from "../helpers/wait.js";

describe("demo page: member counts agree across pages and a killed worker (Chromium, 2 workers, Redis)", () => {
  const rig = new DemoPageRig();
  const consoleErrors: string[] = [];

  before(() => rig.start());
  after(() => rig.stop());

  async function openPage(worker: number, offset: number): Promise<Page> {
    const context = await rig.browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": forwardedFor(worker, offset) } });
    const page = await context.newPage();
    page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
    page.on("pageerror", (error) => consoleErrors.push(error.message));
    await page.goto(`${rig.gateway.url}/`);
    await page
      .locator("#worker")
      .filter({ hasText: new RegExp(`^${worker} `) })
      .waitFor({ timeout: 10_000 });
    return page;
  }

  const members = (page: Page, count: number, timeout = 10_000): Promise<void> =>
    page
      .locator("#members")
      .filter({ hasText: new RegExp(`^${count}$`) })
      .waitFor({ timeout });

  it("three pages show 3; after kill -9 of the worker serving two of them, every page shows 3 again", async () => {
    const pages = [await openPage(0, 1), await openPage(0, 40), await openPage(1, 1)];
    try {
      for (const [index, page] of pages.entries()) {
        await page.fill("#name", `P${index}`);
        await page.fill("#room", "together");
        await page.click("#join");
        await page.locator("#current-room").filter({ hasText: "together" }).waitFor({ timeout: 10_000 });
      }
      for (const page of pages) await members(page, 3);
      assert.deepEqual(consoleErrors, [], "the page must load and join with no console error");

      const victim = Number(/pid (\d+)/.exec((await pages[0].locator("#worker").textContent()) ?? "")?.[1]);
      assert.ok(victim > 0);
      process.kill(victim, "SIGKILL");
      // The two pages reconnect to worker 0's replacement and join again; the dead worker's owner is
      // reaped (two owners left, none expired); then the room holds 3 again, and so must every page.
      for (const page of pages.slice(0, 2))
        await page
          .locator("#worker")
          .filter({ hasNotText: String(victim) })
          .waitFor({ timeout: 20_000 });
      const keys = presenceKeys();
      const store = new Redis(rig.redis.url);
      try {
        await waitUntil(
          async () => (await store.zcard(keys.owners)) === 2 && (await store.hlen(keys.room("/", "together"))) === 3,
          "the dead worker's owner is reaped and the room holds 3",
          PRESENCE_EXPIRY_BOUND + 10_000,
          100,
        );
      } finally {
        store.disconnect();
      }
      for (const page of pages) await members(page, 3);
    } finally {
      for (const page of pages) await page.context().close();
    }
  });
});
