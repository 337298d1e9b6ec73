// The community icon: any photo the node takes (picture-file.ts), previewed
// before it is saved; the node crops and scales it, and the saved icon —
// what members see — is shown after.

import { useId, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ImageUp, Trash2 } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate, useLimits } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { initials } from "@/components/user-avatar";
import { errorText } from "@/lib/errors";
import { pictureProblem, pictureTypes, readPicture } from "./picture-file";

export function IconPicker({ community }: { community: Community }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const limits = useLimits();
  const titleId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [picked, setPicked] = useState<{ url: string; base64: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (icon: string) => data(api.PATCH("/communities/{id}", { params: { path: { id: community.id } }, body: { icon } })),
    onSuccess: (_, icon) => {
      setPicked(null);
      invalidate.communities();
      toast.success(icon ? "Icon saved" : "Icon removed");
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
  // The saved icon is PNG or JPEG; a data: URL's declared type does not
  // stop the browser from reading either.
  const shown = picked?.url ?? (community.icon ? `data:image/png;base64,${community.icon}` : null);
  const error = problem ?? (save.isError ? errorText(save.error) : null);
  return (
    <section className="grid gap-2" aria-labelledby={titleId}>
      <h3 id={titleId} className="text-sm font-medium">
        Icon
      </h3>
      <div className="flex flex-wrap items-center gap-4">
        <div className="flex h-16 w-16 shrink-0 items-center justify-center overflow-hidden rounded-2xl bg-muted text-lg font-semibold text-muted-foreground">
          {shown ? <img data-testid="settings-icon-preview" src={shown} alt={picked ? "The new icon" : "The icon"} className="h-full w-full object-cover" /> : initials(community.name)}
        </div>
        <div className="grid gap-2">
          <p className="text-xs text-muted-foreground">A PNG, JPEG, GIF or WebP photo; it is cropped to a square and scaled down for you.</p>
          <div className="flex flex-wrap gap-2">
            {picked ? (
              <>
                <Button size="sm" data-testid="settings-icon-save" disabled={save.isPending} onClick={() => save.mutate(picked.base64)}>
                  Save icon
                </Button>
                <Button size="sm" variant="ghost" onClick={() => setPicked(null)}>
                  Cancel
                </Button>
              </>
            ) : (
              <>
                <Button size="sm" variant="outline" data-testid="settings-icon-upload" onClick={() => input.current?.click()}>
                  <ImageUp aria-hidden /> Upload image
                </Button>
                {community.icon && (
                  <Button size="sm" variant="ghost" className="text-destructive" data-testid="settings-icon-remove" disabled={save.isPending} onClick={() => save.mutate("")}>
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
          data-testid="settings-icon-file"
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
