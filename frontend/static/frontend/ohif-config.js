// OHIF's dist is served at the site root (frontend.ohif); set here, not inline, for the CSP.
window.PUBLIC_URL = "/";
// OHIF's configuration (read before its bundle starts): one data source, this application's DICOMweb
// endpoint (archive.dicomweb), reached with the browser's session; no upload, no other server.
const root = `${window.location.origin}/dicom-web`;

// OHIF 3.13 reads `coords[0]` of every TID 1500 measurement group while placing an SR's marks, and a
// group without an image region (breast density, gland volume, a zone pointing at its SEG segment:
// valid TID 1501/1411 content) has none: "Cannot read properties of undefined (reading
// 'ReferencedSOPSequence')", and the whole SR fails to load. Such a group gets an empty region,
// which OHIF skips as "not on any image"; it is still listed with its values.
function keepGroupsWithoutRegion({ measurement }) {
  if (measurement && Array.isArray(measurement.coords) && measurement.coords.length === 0) {
    return { ...measurement, coords: [{}] };
  }
  return measurement;
}

window.config = {
  routerBasename: "/ohif",
  extensions: [],
  modes: [],
  showStudyList: true,
  maxNumberOfWebWorkers: 2,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: true,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  // OHIF is not a medical device; it says so once a day, and the worklist says "not for clinical use".
  investigationalUseDialog: { option: "configure", days: 1 },
  customizationService: { onBeforeSRAddMeasurement: keepGroupsWithoutRegion },
  maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 10 },
  defaultDataSourceName: "triage",
  dataSources: [
    {
      namespace: "@ohif/extension-default.dataSourcesModule.dicomweb",
      sourceName: "triage",
      configuration: {
        friendlyName: "Triage worklist archive",
        name: "triage",
        wadoUriRoot: root,
        qidoRoot: root,
        wadoRoot: root,
        qidoSupportsIncludeField: false,
        imageRendering: "wadors",
        thumbnailRendering: "wadors",
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: false,
        supportsWildcard: true,
        dicomUploadEnabled: false,
        singlepart: "bulkdata,video",
        bulkDataURI: { enabled: true, relativeResolution: "studies" },
        omitQuotationForMultipartRequest: true,
      },
    },
  ],
};
