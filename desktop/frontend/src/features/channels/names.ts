// Channel names, Discord's way: a text channel's name is lowercase words
// joined by dashes ("Off Topic!" → "off-topic"); a voice channel keeps
// what was typed, trimmed.

export const maxChannelName = 100;

export function normalizeChannelName(name: string, type: "text" | "voice"): string {
  if (type === "voice") return name.trim().replace(/\s+/g, " ").slice(0, maxChannelName);
  return name
    .toLocaleLowerCase()
    .replace(/[\s_]+/g, "-")
    .replace(/[^\p{L}\p{N}\p{Emoji_Presentation}-]/gu, "")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, maxChannelName);
}
