window.pimPortal = {
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone
};
