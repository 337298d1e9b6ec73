import { describe, expect, it } from "vitest";
import { expiryText, relativeTime } from "./relative-time";

const now = new Date("2024-05-01T12:00:00Z");

describe("expiryText", () => {
  it("says never, the time left, or how long ago it expired", () => {
    expect(expiryText(null, now)).toBe("never");
    expect(expiryText("2024-05-01T17:30:00Z", now)).toBe("in 5 hours");
    expect(expiryText("2024-05-08T12:00:00Z", now)).toBe("in 7 days");
    expect(expiryText("2024-04-29T12:00:00Z", now)).toBe("expired 2 days ago");
  });

  it("rounds towards now, and calls under a minute now", () => {
    expect(relativeTime(new Date("2024-05-01T13:59:00Z"), now)).toBe("in 1 hour");
    expect(relativeTime(new Date("2024-05-01T12:00:20Z"), now)).toBe("now");
  });
});
