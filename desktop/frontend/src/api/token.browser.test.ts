// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { tokenFromLocation, tokenStorageKey } from "./token";

describe("tokenFromLocation in a browser", () => {
  afterEach(() => {
    window.sessionStorage.clear();
    window.history.replaceState(null, "", "/");
  });

  it("reads the token from the page's hash, keeps it and clears the URL", () => {
    window.history.replaceState(null, "", "/channels/b1?x=1#token=abc");
    expect(tokenFromLocation(window.location)).toBe("abc");
    expect(window.location.href).toBe("http://localhost:3000/channels/b1?x=1");
    expect(window.sessionStorage.getItem(tokenStorageKey)).toBe("abc");
    // A reload has no hash but the same tab.
    expect(tokenFromLocation(window.location)).toBe("abc");
  });
});
