// The community icon: a PNG or JPEG of at most 16 KiB (the op's limit),
// previewed before it is saved.

import { useId, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ImageUp, Trash2 } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { initials } from "@/components/user-avatar";
import { errorText } from "@/lib/errors";

export const maxIconBytes = 16 * 1024;

/** Why a file cannot be the icon, or null when it can. */
export function iconProblem(file: Pick<File, "type" | "size">): string | null {
  if (file.type !== "image/png" && file.type !== "image/jpeg") return "The icon must be a PNG or JPEG image.";
  if (file.size > maxIconBytes) return `That image is ${Math.ceil(file.size / 1024)} KB; the icon can be at most 16 KB.`;
  return null;
}

export function IconPicker({ community }: { community: Community }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const titleId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (icon: string) => data(api.PATCH("/communities/{id}", { params: { path: { id: community.id } }, body: { icon } })),
    onSuccess: (_, icon) => {
      setPicked(null);
      invalidate.communities();
      toast.success(icon ? "Icon saved" : "Icon removed");
    },
  });
  const pick = (file: File | undefined) => {
    setProblem(null);
    save.reset();
    if (!file) return;
    const why = iconProblem(file);
    if (why) return setProblem(why);
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      setPicked(url.slice(url.indexOf(",") + 1));
    };
    reader.readAsDataURL(file);
  };
  const shown = picked ?? community.icon;
  const error = problem ?? (save.isError ? errorText(save.error) : null);
  return (
    <section className="grid gap-2" aria-labelledby={titleId}>
      <h3 id={titleId} className="text-sm font-medium">
        Icon
      </h3>
      <div className="flex flex-wrap items-center gap-4">
        <div className="flex h-16 w-16 shrink-0 items-center justify-center overflow-hidden rounded-2xl bg-muted text-lg font-semibold text-muted-foreground">
          {shown ? <img data-testid="settings-icon-preview" src={`data:image/png;base64,${shown}`} alt={picked ? "The new icon" : "The icon"} className="h-full w-full object-cover" /> : initials(community.name)}
        </div>
        <div className="grid gap-2">
          <p className="text-xs text-muted-foreground">PNG or JPEG, at most 16 KB. Square images look best.</p>
          <div className="flex flex-wrap gap-2">
            {picked ? (
              <>
                <Button size="sm" data-testid="settings-icon-save" disabled={save.isPending} onClick={() => save.mutate(picked)}>
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
          accept="image/png,image/jpeg"
          // Hidden: the Upload button opens it.
          className="hidden"
          onChange={(e) => {
            pick(e.target.files?.[0]);
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
