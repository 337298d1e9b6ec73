import { describe, expect, it } from "vitest";
import { splitTokenHash, tokenFromLocation, tokenStorageKey, type TokenEnvironment } from "./token";

describe("the token", () => {
  function env(stored: string | null = null) {
    const store = new Map<string, string>();
    if (stored !== null) store.set(tokenStorageKey, stored);
    const replaced: string[] = [];
    const e: TokenEnvironment = {
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
      history: { state: null, replaceState: (_s, _t, url) => void replaced.push(String(url)) },
    };
    return { e, store, replaced };
  }

  it("splits the token out of the hash", () => {
    expect(splitTokenHash("#token=abc")).toEqual({ token: "abc", hash: "" });
    expect(splitTokenHash("#x=1&token=abc")).toEqual({ token: "abc", hash: "#x=1" });
    expect(splitTokenHash("#other")).toEqual({ token: null, hash: "#other" });
    expect(splitTokenHash("")).toEqual({ token: null, hash: "" });
    expect(splitTokenHash("#token=")).toEqual({ token: null, hash: "" });
  });

  it("keeps a token from the hash and takes it out of the URL", () => {
    const { e, store, replaced } = env();
    const token = tokenFromLocation({ pathname: "/", search: "", hash: "#token=s3cret" }, e);
    expect(token).toBe("s3cret");
    expect(store.get(tokenStorageKey)).toBe("s3cret");
    expect(replaced).toEqual(["/"]);
  });

  it("falls back to the token kept in the tab", () => {
    const { e, replaced } = env("kept");
    expect(tokenFromLocation({ pathname: "/c/1", search: "?q", hash: "" }, e)).toBe("kept");
    expect(replaced).toEqual([]);
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "#token=new" }, e)).toBe("new");
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "" }, e)).toBe("new");
  });

  it("has no token when there is none", () => {
    const { e } = env();
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "" }, e)).toBeNull();
  });

  it("works without storage", () => {
    const { e } = env();
    e.storage = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "#token=t" }, e)).toBe("t");
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "" }, e)).toBeNull();
  });
});
