-- Least privilege for the application's Orthanc account (orthanc/orthanc.json loads this file).
--
-- Every user Orthanc knows (RegisteredUsers) is a full administrator in Orthanc core, so this
-- filter narrows them: the operator's account (TriageAdminUser, ORTHANC_ADMIN_USERNAME) keeps
-- every right; any other account, the application's among them, may make only the requests the
-- application makes (archive/orthanc.py and its callers, the DICOMweb proxy in
-- archive/dicomweb.py). Everything else is answered 403 Forbidden. Orthanc calls this after it
-- checked the password, with the path without its query string.

local ADMIN = GetOrthancConfiguration()["TriageAdminUser"]

-- The AI results the application writes and may replace (inference/dicom_results.py MANUFACTURER).
local RESULTS_MANUFACTURER = "Open triage worklist"
local RESULT_MODALITIES = { SR = true, SEG = true }

local ID = "[^/]+"  -- one path segment: an unknown id is then Orthanc's 404, as before, not a 403

-- Read-only requests: the change feed, the resources of a study, and DICOMweb for the proxy.
local READABLE = {
  "^/system$",                      -- health check
  "^/changes$",                     -- ingestion's change feed
  "^/studies$",
  "^/studies/" .. ID .. "$",
  "^/studies/" .. ID .. "/series$",
  "^/studies/" .. ID .. "/instances$",  -- CAD models plugged in by CAD_MODELS (tests/faults)
  "^/series/" .. ID .. "$",
  "^/series/" .. ID .. "/instances$",
  "^/series/" .. ID .. "/instances%-tags$",
  "^/instances/" .. ID .. "$",
  "^/instances/" .. ID .. "/file$",
  "^/instances/" .. ID .. "/preview$",
  "^/instances/" .. ID .. "/simplified%-tags$",
  "^/instances/" .. ID .. "/metadata/ReceptionDate$",
  "^/instances/" .. ID .. "/attachments/dicom/md5$",
  "^/instances/" .. ID .. "/content/[%x%-/]+$",
  "^/dicom%-web/.+$",
}

-- Writes: AI results (SR, SEG) and signed reports (encapsulated PDF) into the archive.
local WRITABLE = {
  "^/instances$",
  "^/tools/create%-dicom$",
}

local function matches(uri, patterns)
  for _, pattern in ipairs(patterns) do
    if string.match(uri, pattern) then
      return true
    end
  end
  return false
end

-- An earlier run's result is deleted before the new one is stored (Orthanc keeps the first copy
-- of a SOP instance): allowed only for an SR or SEG this application wrote, never for images.
local function is_own_result(uri)
  local id = string.match(uri, "^/instances/(" .. ID .. ")$")
  if id == nil then
    return false
  end
  local ok, answer = pcall(RestApiGet, "/instances/" .. id .. "/simplified-tags")
  if not ok or answer == nil or answer == "" then
    return false
  end
  local tags = ParseJson(answer)
  return RESULT_MODALITIES[tags["Modality"]] == true and tags["Manufacturer"] == RESULTS_MANUFACTURER
end

function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  if ADMIN ~= nil and ADMIN ~= "" and username == ADMIN then
    return true
  end
  if method == "GET" then
    return matches(uri, READABLE)
  elseif method == "POST" then
    return matches(uri, WRITABLE)
  elseif method == "DELETE" then
    return is_own_result(uri)
  end
  return false
end
