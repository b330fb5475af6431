// Small display helpers shared by the pages' scripts.

// "CT Chest" from modality and description, without "CT CT Chest" when the description names it
// (the same rule as Study.title on the server).
export function studyTitle(study) {
  const description = String(study.study_description || study.body_part || "").trim();
  const modality = String(study.modality || "");
  if (modality && description.toUpperCase().split(" ")[0] === modality.toUpperCase()) return description;
  return [modality, description].filter(Boolean).join(" ");
}
