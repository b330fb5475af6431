// OHIF's configuration (read before its bundle starts): one data source, this application's DICOMweb
// endpoint (archive.dicomweb), reached with the browser's session; no upload, no other server.
const root = `${window.location.origin}/dicom-web`;

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
