// The local user's avatar in the profile settings (picture-picker.tsx), or
// their initials while there is none.

import { useQueryClient } from "@tanstack/react-query";
import { data } from "@/api/client";
import { keys, useAvatar } from "@/api/queries";
import type { Me } from "@/api/types";
import { useSession } from "@/app/session";
import { UserAvatar } from "@/components/user-avatar";
import { PicturePicker } from "./picture-picker";

export function AvatarPicker({ me, name }: { me: Me; name: string }) {
  const { api } = useSession();
  const qc = useQueryClient();
  const current = useAvatar(me.avatar);
  return (
    <PicturePicker
      title="Avatar"
      testId="avatar"
      saved={!!me.avatar}
      store={(image) => data(image === null ? api.DELETE("/me/avatar") : api.PUT("/me/avatar", { body: { image } }))}
      onStored={(m) => qc.setQueryData(keys.me, m)}
      preview={({ url, picked }) => {
        const shown = url ?? current;
        return shown ? (
          <img data-testid="avatar-preview" src={shown} alt={picked ? "Your new avatar" : "Your avatar"} className="h-16 w-16 shrink-0 rounded-full object-cover" />
        ) : (
          <UserAvatar user={me.user} name={name} size="lg" />
        );
      }}
    />
  );
}
