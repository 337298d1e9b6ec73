// The local user's avatar in the profile settings: the current picture
// (or the initials), a picked one previewed before it is saved, and
// removal. The node crops and scales what it is given; the saved result is
// what members see.

import { useId, useRef, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ImageUp, Trash2 } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { keys, useAvatar, useLimits } from "@/api/queries";
import type { Me } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { UserAvatar } from "@/components/user-avatar";
import { errorText } from "@/lib/errors";
import { pictureProblem, pictureTypes, readPicture } from "./picture-file";

export function AvatarPicker({ me, name }: { me: Me; name: string }) {
  const { api } = useSession();
  const qc = useQueryClient();
  const limits = useLimits();
  const titleId = useId();
  const input = useRef<HTMLInputElement>(null);
  const current = useAvatar(me.avatar);
  const [picked, setPicked] = useState<{ url: string; base64: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (image: string | null) =>
      data(image === null ? api.DELETE("/me/avatar") : api.PUT("/me/avatar", { body: { image } })),
    onSuccess: (m, image) => {
      setPicked(null);
      qc.setQueryData(keys.me, m);
      toast.success(image === null ? "Avatar removed" : "Avatar saved");
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
  const shown = picked?.url ?? current;
  const error = problem ?? (save.isError ? errorText(save.error) : null);
  return (
    <section className="grid gap-2" aria-labelledby={titleId}>
      <h3 id={titleId} className="text-sm font-medium">
        Avatar
      </h3>
      <div className="flex flex-wrap items-center gap-4">
        {shown ? (
          <img
            data-testid="avatar-preview"
            src={shown}
            alt={picked ? "Your new avatar" : "Your avatar"}
            className="h-16 w-16 shrink-0 rounded-full object-cover"
          />
        ) : (
          <UserAvatar user={me.user} name={name} size="lg" />
        )}
        <div className="grid gap-2">
          <p className="text-xs text-muted-foreground">A PNG, JPEG, GIF or WebP photo; it is cropped to a square and scaled down for you.</p>
          <div className="flex flex-wrap gap-2">
            {picked ? (
              <>
                <Button type="button" size="sm" data-testid="avatar-save" disabled={save.isPending} onClick={() => save.mutate(picked.base64)}>
                  Save avatar
                </Button>
                <Button type="button" size="sm" variant="ghost" onClick={() => setPicked(null)}>
                  Cancel
                </Button>
              </>
            ) : (
              <>
                <Button type="button" size="sm" variant="outline" data-testid="avatar-upload" onClick={() => input.current?.click()}>
                  <ImageUp aria-hidden /> Upload image
                </Button>
                {me.avatar && (
                  <Button
                    type="button"
                    size="sm"
                    variant="ghost"
                    className="text-destructive"
                    data-testid="avatar-remove"
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
          data-testid="avatar-file"
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
