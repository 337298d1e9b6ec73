// The community icon in the community settings (picture-picker.tsx), or
// the community's initials while there is none.

import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { initials } from "@/components/user-avatar";
import { PicturePicker } from "./picture-picker";

export function IconPicker({ community }: { community: Community }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  // The saved icon is PNG or JPEG; a data: URL's declared type does not
  // stop the browser from reading either.
  const saved = community.icon ? `data:image/png;base64,${community.icon}` : null;
  return (
    <PicturePicker
      title="Icon"
      testId="settings-icon"
      saved={!!community.icon}
      // An empty icon removes it.
      store={(icon) => data(api.PATCH("/communities/{id}", { params: { path: { id: community.id } }, body: { icon: icon ?? "" } }))}
      onStored={() => invalidate.communities()}
      preview={({ url, picked }) => {
        const shown = url ?? saved;
        return (
          <div className="flex h-16 w-16 shrink-0 items-center justify-center overflow-hidden rounded-2xl bg-muted text-lg font-semibold text-muted-foreground">
            {shown ? <img data-testid="settings-icon-preview" src={shown} alt={picked ? "The new icon" : "The icon"} className="h-full w-full object-cover" /> : initials(community.name)}
          </div>
        );
      }}
    />
  );
}
