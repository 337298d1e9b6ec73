// The colours a role can have, Discord's palette; 0 is none (the
// default text colour).

export const roleColors: { name: string; color: number }[] = [
  { name: "Teal", color: 0x1abc9c },
  { name: "Green", color: 0x2ecc71 },
  { name: "Blue", color: 0x3498db },
  { name: "Purple", color: 0x9b59b6 },
  { name: "Magenta", color: 0xe91e63 },
  { name: "Yellow", color: 0xf1c40f },
  { name: "Orange", color: 0xe67e22 },
  { name: "Red", color: 0xe74c3c },
  { name: "Grey", color: 0x95a5a6 },
  { name: "Slate", color: 0x607d8b },
  { name: "Dark teal", color: 0x11806a },
  { name: "Dark purple", color: 0x71368a },
];
