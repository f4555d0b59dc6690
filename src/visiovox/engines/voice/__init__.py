"""Voice engines: conversion of one speaker's voice toward another's."""
