// The API token. The node opens the UI at `http://127.0.0.1:PORT/#token=…`;
// a token in the hash is kept in session storage and taken out of the
// visible URL (so it is not bookmarked, shared or shown).

/** Where the UI keeps the token for the tab's lifetime (reloads included). */
export const tokenStorageKey = "ancore.token";

/**
 * Splits the token out of a location hash ("#token=…&other=…"): the token,
 * or null, and the hash that remains ("" when nothing does).
 */
export function splitTokenHash(hash: string): { token: string | null; hash: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token");
  if (token === null) return { token: null, hash };
  params.delete("token");
  const rest = params.toString();
  return { token: token || null, hash: rest ? "#" + rest : "" };
}

export interface TokenEnvironment {
  storage: Pick<Storage, "getItem" | "setItem">;
  history: Pick<History, "replaceState" | "state">;
}

function browserTokenEnvironment(): TokenEnvironment {
  return { storage: window.sessionStorage, history: window.history };
}

/** The token from the location's hash, else the one kept earlier in this tab; null when there is none. */
export function tokenFromLocation(
  loc: Pick<Location, "pathname" | "search" | "hash">,
  env: TokenEnvironment = browserTokenEnvironment(),
): string | null {
  const { token, hash } = splitTokenHash(loc.hash);
  if (hash !== loc.hash) {
    env.history.replaceState(env.history.state, "", loc.pathname + loc.search + hash);
  }
  if (token === null) {
    try {
      return env.storage.getItem(tokenStorageKey);
    } catch {
      return null;
    }
  }
  try {
    env.storage.setItem(tokenStorageKey, token);
  } catch {
    // Storage may be disabled; the token still works for this page's life.
  }
  return token;
}
