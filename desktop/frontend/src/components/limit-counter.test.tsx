// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import type { Channel, Limits } from "@/api/types";
import { EditChannelDialog } from "@/features/channels/channel-dialogs";
import { cleanupRendered, fakeNode, render } from "@/test/render";
import { fieldLimit } from "./limit-counter";

afterEach(() => cleanupRendered());

describe("fieldLimit", () => {
  it("counts characters, shows from 90 % and refuses over the limit", () => {
    expect(fieldLimit("x".repeat(89), 100)).toEqual({ remaining: 11, near: false, refusal: null });
    expect(fieldLimit("é".repeat(90), 100)).toEqual({ remaining: 10, near: true, refusal: null });
    expect(fieldLimit("😀".repeat(100), 100).refusal).toBeNull(); // 200 UTF-16 units, 100 characters
    expect(fieldLimit("y".repeat(101), 100).refusal).toBe("Too long: 1 character over the limit of 100.");
    expect(fieldLimit("y".repeat(103), 100)).toEqual({ remaining: -3, near: true, refusal: "Too long: 3 characters over the limit of 100." });
  });

  it("refuses nothing while the limit is unknown", () => {
    expect(fieldLimit("z".repeat(10_000), undefined)).toEqual({ remaining: null, near: false, refusal: null });
  });
});

const limits: Limits = {
  message_text: 4000,
  mentions: 50,
  emoji_bytes: 32,
  name: 20,
  status_text: 128,
  topic: 30,
  icon_bytes: 16384,
  avatar_bytes: 16384,
  picture_bytes: 10485760,
  picture_pixels: 50000000,
  member_roles: 16,
  page: 200,
  invite_ttl_seconds: 3600,
  request_bytes: 1 << 20,
};
const general: Channel = { id: "ch-general", community: "c1", name: "general", topic: "", type: "text", position: 0 };

describe("EditChannelDialog", () => {
  it("keeps a pasted topic whole, says it is too long and does not save it", async () => {
    const node = fakeNode({ "GET /limits": [200, limits], "PATCH /channels/ch-general": [200, general] });
    const r = await render(node, <EditChannelDialog channel={general} onOpenChange={() => undefined} />);
    await r.settle();
    const topic = r.$("channel-edit-topic") as HTMLTextAreaElement;
    expect(topic.hasAttribute("maxlength")).toBe(false);

    await r.fill("channel-edit-topic", "t".repeat(45));
    expect(topic.value).toHaveLength(45);
    expect(topic.getAttribute("aria-invalid")).toBe("true");
    expect(r.$("field-refused")?.textContent).toBe("Too long: 15 characters over the limit of 30.");
    expect((r.$("channel-save") as HTMLButtonElement).disabled).toBe(true);
    await r.click("channel-save");
    expect(node.calls.filter((c) => c.startsWith("PATCH"))).toEqual([]);

    await r.fill("channel-edit-topic", "t".repeat(30));
    expect(r.$("field-refused")?.textContent).toBe("");
    await r.click("channel-save");
    expect(node.calls).toContain(`PATCH /channels/ch-general ${JSON.stringify({ name: "general", topic: "t".repeat(30) })}`);
  });
});
