// Picking a picture for the node to keep — the user's avatar, a
// community's icon: any photo the node takes (picture-file.ts), previewed
// before it is saved, and removal. The node crops and scales what it is
// given; the saved result is what members see.

import { useId, useRef, useState, type ReactNode } from "react";
import { useMutation } from "@tanstack/react-query";
import { ImageUp, Trash2 } from "lucide-react";
import { toast } from "sonner";
import { useLimits } from "@/api/queries";
import { Button } from "@/components/ui/button";
import { errorText } from "@/lib/errors";
import { pictureProblem, pictureTypes, readPicture } from "./picture-file";

export function PicturePicker<T>({ title, testId, saved, preview, store, onStored }: {
  /** The section's heading, and the word its buttons use ("Avatar": "Save avatar"). */
  title: string;
  /** The prefix of the parts' test ids: `${testId}-upload`, `-save`, `-remove`, `-file`. */
  testId: string;
  /** Whether a picture is saved now (it can be removed). */
  saved: boolean;
  /** The picture shown: url is the picked one's, else the saved one's, else null. */
  preview: (shown: { url: string | null; picked: boolean }) => ReactNode;
  /** Saves the picked picture (base64), or removes the saved one (null). */
  store: (image: string | null) => Promise<T>;
  onStored: (result: T) => void;
}) {
  const limits = useLimits();
  const titleId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [picked, setPicked] = useState<{ url: string; base64: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const word = title.toLowerCase();
  const save = useMutation({
    mutationFn: store,
    onSuccess: (result, image) => {
      setPicked(null);
      onStored(result);
      toast.success(image === null ? `${title} removed` : `${title} saved`);
    },
  });
  const pick = async (file: File | undefined) => {
    setProblem(null);
    save.reset();
    if (!file) return;
    const why = pictureProblem(file, limits.data?.picture_bytes);
    if (why) return setProblem(why);
    try {
      setPicked(await readPicture(file));
    } catch (e) {
      setProblem(errorText(e));
    }
  };
  const error = problem ?? (save.isError ? errorText(save.error) : null);
  return (
    <section className="grid gap-2" aria-labelledby={titleId}>
      <h3 id={titleId} className="text-sm font-medium">
        {title}
      </h3>
      <div className="flex flex-wrap items-center gap-4">
        {preview({ url: picked?.url ?? null, picked: !!picked })}
        <div className="grid gap-2">
          <p className="text-xs text-muted-foreground">A PNG, JPEG, GIF or WebP photo; it is cropped to a square and scaled down for you.</p>
          <div className="flex flex-wrap gap-2">
            {picked ? (
              <>
                <Button type="button" size="sm" data-testid={`${testId}-save`} disabled={save.isPending} onClick={() => save.mutate(picked.base64)}>
                  Save {word}
                </Button>
                <Button type="button" size="sm" variant="ghost" onClick={() => setPicked(null)}>
                  Cancel
                </Button>
              </>
            ) : (
              <>
                <Button type="button" size="sm" variant="outline" data-testid={`${testId}-upload`} onClick={() => input.current?.click()}>
                  <ImageUp aria-hidden /> Upload image
                </Button>
                {saved && (
                  <Button
                    type="button"
                    size="sm"
                    variant="ghost"
                    className="text-destructive"
                    data-testid={`${testId}-remove`}
                    disabled={save.isPending}
                    onClick={() => save.mutate(null)}
                  >
                    <Trash2 aria-hidden /> Remove
                  </Button>
                )}
              </>
            )}
          </div>
        </div>
        <input
          ref={input}
          type="file"
          data-testid={`${testId}-file`}
          accept={pictureTypes.join(",")}
          // Hidden: the Upload button opens it.
          className="hidden"
          onChange={(e) => {
            void pick(e.target.files?.[0]);
            e.target.value = "";
          }}
        />
      </div>
      {error && (
        <p role="alert" className="text-sm text-destructive">
          {error}
        </p>
      )}
    </section>
  );
}
