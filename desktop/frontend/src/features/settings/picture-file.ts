// A picture the user picks for a community icon or an avatar: what the
// node takes (PNG, JPEG, GIF or WebP of at most 10 MiB, which it crops to a
// square and scales down itself), checked before anything is sent.

export const pictureTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

/** The node's limit (Limits' picture_bytes), for before /limits has answered. */
export const maxPictureBytes = 10 * 1024 * 1024;

/** Why a file cannot be sent as a picture, or null when it can. */
export function pictureProblem(file: Pick<File, "type" | "size">, maxBytes = maxPictureBytes): string | null {
  if (!(pictureTypes as readonly string[]).includes(file.type)) return "Pick a PNG, JPEG, GIF or WebP image.";
  if (file.size > maxBytes) return `That image is ${(file.size / 1024 / 1024).toFixed(1)} MB; pictures can be at most ${Math.floor(maxBytes / 1024 / 1024)} MB.`;
  return null;
}

/** A file's bytes as a data: URL (for a preview) and as base64 (for the API). */
export function readPicture(file: Blob): Promise<{ url: string; base64: string }> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve({ url, base64: url.slice(url.indexOf(",") + 1) });
    };
    reader.onerror = () => reject(reader.error ?? new Error("cannot read the file"));
    reader.readAsDataURL(file);
  });
}
